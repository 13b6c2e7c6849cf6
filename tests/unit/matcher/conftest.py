"""Unit tests of the matcher share the forced-network streams with its integration tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration" / "matcher"))
