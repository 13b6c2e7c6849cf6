"""The committed JSON Schema and AsyncAPI documents equal what the code generates (`make docs`)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_committed_json_schema_and_asyncapi_documents_are_current() -> None:
    # Generated without the per-session topic prefix the test fixtures set, exactly as `make docs` does.
    env = {k: v for k, v in os.environ.items() if k != "VERBUND_TOPIC_PREFIX"}
    result = subprocess.run(
        [sys.executable, "-m", "verbund.docs_gen", "--check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"run `make docs` and commit the result:\n{result.stdout}{result.stderr}"
