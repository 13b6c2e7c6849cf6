"""`verbund demo` plays the plastics network to the end and leaves the stack running, the console ready to sign in."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kafka_tools import consume
from verbund_cli import VERBUND, run_verbund
from verbund_console.web.mail import SHOWN
from verbund_schemas import topic

from verbund.stack.locations import REPO_ROOT
from verbund.stack.processes import pid_alive

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    """A stack directory of the test's own (a developer's running stack is neither seen nor stopped); always down."""
    folder = tmp_path / "run"
    yield folder
    if (folder / "stack" / "state.json").exists():
        env = {**os.environ, "VERBUND_RUN_DIR": str(folder)}
        subprocess.run([str(VERBUND), "stack", "down"], env=env, capture_output=True, timeout=120, check=False)


def _line(out: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}: (\S+)$", out, re.M)
    assert found is not None, f"no '{label}:' line in:\n{out[-3000:]}"
    return found.group(1)


def _demo_learners_personal_data() -> list[str]:
    """Every learner's name and email address in the demo's scenario, as they would appear in clear text."""
    found = []
    for line in (REPO_ROOT / "scenarios" / "plastics.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "LearnerRegistered":
            found.append(event["data"]["name"])
            found.append(event["data"]["contact"]["email"])
    assert len(found) >= 40
    return found


def _inbound_topic_of_the_demo(run_dir: Path) -> str:
    prefix = str(json.loads((run_dir / "stack" / "state.json").read_text())["topic_prefix"])
    assert prefix.startswith(os.environ.get("VERBUND_TOPIC_PREFIX", "") + "demo-"), prefix
    # The demo puts its run's prefix before the topic names of infra/topics.toml.
    return prefix + topic("inbound").removeprefix(os.environ.get("VERBUND_TOPIC_PREFIX", ""))


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


def test_demo_shows_the_plan_and_leaves_the_console_running_with_a_demo_sign_in(
    kafka_bootstrap: str, run_dir: Path
) -> None:
    # Every message listed: which ones come first depends on delivery order, and some carry no calendar entry.
    done = run_verbund(
        "demo",
        "--messages",
        "1000",
        "--timeout",
        "200",
        bootstrap=kafka_bootstrap,
        timeout=380,
        env={"VERBUND_RUN_DIR": str(run_dir)},
    )

    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "Demo complete." in out
    assert "Rotation plans — kunststoff-verbund" in out
    # scenarios/README.md: exactly two shortfalls, each with its reason.
    assert "Emily Köhler (azubi-009)" in out and "no_offer" in out
    assert "Paul Schwarz (azubi-017)" in out and "eligibility" in out
    delivered = re.search(r"messages delivered\s+\S+\s+(\d+)/(\d+)", out)
    assert delivered is not None and delivered.group(1) == delivered.group(2) and int(delivered.group(1)) > 0
    assert re.search(r"Messages sent \((\d+)\)", out)
    assert re.search(r"\d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d @ ", out), "no calendar entry with a location shown"
    assert "verbund stack down" in out

    # The stack's matcher served the keys: every learner's name and address went out sealed, read raw.
    inbound = asyncio.run(consume(kafka_bootstrap, _inbound_topic_of_the_demo(run_dir), until=64, timeout=30))
    raw = b"\n".join(record.value or b"" for record in inbound).decode("utf-8")
    assert raw.count('"personal":') >= 24, raw[:2000]
    in_clear = [text for text in _demo_learners_personal_data() if text in raw or json.dumps(text)[1:-1] in raw]
    assert in_clear == [], in_clear

    # Logs carry ids, never people: no service's log line names a demo learner or their address, in any encoding.
    logs = sorted(run_dir.rglob("*.log"))
    assert {p.stem for p in logs} >= {"matcher", "notifier", "console"}, logs
    forms = [
        form
        for text in _demo_learners_personal_data()
        for form in {text, json.dumps(text)[1:-1], urllib.parse.quote(text), urllib.parse.quote_plus(text)}
    ]
    leaks = [
        f"{path.name}: {form}"
        for path in logs
        for form in forms
        if form.lower() in path.read_text(encoding="utf-8", errors="replace").lower()
    ]
    assert leaks == [], leaks

    # The command has returned; the console it started still answers and lets the demo coordinator in.
    url = _line(out, "Console")
    email, password = _line(out, "Sign in as"), _line(out, "Password")
    with httpx.Client(base_url=url, timeout=30) as browser:
        assert browser.get("/healthz").status_code == 200
        form = browser.get("/signin")
        signed_in = browser.post(
            "/signin",
            data={"email": email, "password": password, "csrf": _csrf(form.text), "next": "/"},
            follow_redirects=True,
        )
        assert signed_in.status_code == 200, signed_in.text[:2000]
        assert "/n/kunststoff-verbund/" in signed_in.text
        overview = browser.get("/n/kunststoff-verbund/")
        assert overview.status_code == 200
        # The mail the notifier sent went to the stack's sink, and the console reads it there.
        mail = browser.get("/mail")
        assert mail.status_code == 200
        assert mail.text.count('class="problem"') == min(int(delivered.group(1)), SHOWN)

    # The demo's firm user gets their firm's own page, and nothing of the coordinator's.
    firm_page = _line(out, "A firm's own page")
    with httpx.Client(base_url=url, timeout=30) as firm_browser:
        form = firm_browser.get("/signin")
        signed_in = firm_browser.post(
            "/signin",
            data={
                "email": _line(out, "Firm user"),
                "password": _line(out, "Firm password"),
                "csrf": _csrf(form.text),
                "next": "/",
            },
            follow_redirects=True,
        )
        assert signed_in.status_code == 200, signed_in.text[:2000]
        assert firm_browser.get(firm_page).status_code == 200
        assert firm_browser.get("/n/kunststoff-verbund/").status_code == 403

    status = subprocess.run(
        [str(VERBUND), "stack", "status"],
        env={**os.environ, "VERBUND_RUN_DIR": str(run_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    pids = [int(p) for p in re.findall(r"pid (\d+)", status)]
    assert len(pids) == 4, status  # mail sink, console, matcher, notifier (the broker is the session's)
    # The matcher's retention job, as its /metrics tell: the plastics network sets no retention_months.
    assert re.search(r"retention: next run \d{4}-\d\d-\d\d \d\d:\d\d UTC, 0 learner\(s\)", status), status

    stopped = subprocess.run(
        [str(VERBUND), "stack", "down"],
        env={**os.environ, "VERBUND_RUN_DIR": str(run_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Console stopped." in stopped and "Mail sink stopped." in stopped
    assert not any(pid_alive(pid) for pid in pids)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}healthz", timeout=5)
