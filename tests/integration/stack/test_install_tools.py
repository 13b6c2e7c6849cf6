"""infra/install-tools.sh: silent when everything is there, and says what to install when it cannot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "infra" / "install-tools.sh"


def test_nothing_happens_when_every_tool_is_there() -> None:
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_missing_tools_without_apt_get_are_named_with_their_debian_packages(tmp_path: Path) -> None:
    # A PATH with the shell basics only: no kcat, no mvn, no apt-get (so not even root could install).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id", "sed", "head"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    bash = shutil.which("bash")
    assert bash

    result = subprocess.run(
        [bash, str(SCRIPT), "kcat", "maven"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(bin_dir)},
        check=False,
    )

    assert result.returncode == 1
    assert "Missing: kcat maven." in result.stderr
    assert "Debian package names: kcat maven" in result.stderr
    assert "KAFKA_BOOTSTRAP_SERVERS" in result.stderr


def test_an_unknown_tool_name_is_refused_with_the_known_ones() -> None:
    result = subprocess.run(["bash", str(SCRIPT), "kafkacat"], capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2
    assert "known: kcat postgresql java maven" in result.stderr
