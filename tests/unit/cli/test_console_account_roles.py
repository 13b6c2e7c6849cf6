"""`verbund console add-user --firm / --learner`: an account of one role in one network, with no coordinator grant."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from verbund.cli import app

PASSWORD = "correct horse battery staple\n"


def add_user(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["console", "add-user", *args, "--password-stdin", "--database", url], input=PASSWORD
    )
    return result.exit_code, result.output


def test_a_firm_user_and_a_learner_get_a_membership_and_no_grant(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    assert add_user(url, "HR@Firm.example", "--network", "net-1", "--firm", "rkt")[0] == 0
    assert add_user(url, "hr@firm.example", "--network", "net-1", "--firm", "kwa")[0] == 0
    code, said = add_user(url, "lea@example.org", "--network", "net-1", "--learner", "l-7")
    assert code == 0 and "learner l-7 of network net-1" in said
    assert add_user(url, "coord@example.org", "--network", "net-1", "--network", "net-2")[0] == 0

    with sqlite3.connect(tmp_path / "console.db") as db:
        members = sorted(db.execute("SELECT email, network_id, role, subject_id FROM console_memberships").fetchall())
        grants = sorted(db.execute("SELECT email, network_id FROM console_grants").fetchall())
        hashes = [h for (h,) in db.execute("SELECT password_hash FROM console_users")]
    assert members == [
        ("hr@firm.example", "net-1", "firm", "kwa"),
        ("hr@firm.example", "net-1", "firm", "rkt"),
        ("lea@example.org", "net-1", "learner", "l-7"),
    ]
    assert grants == [("coord@example.org", "net-1"), ("coord@example.org", "net-2")]
    assert len(hashes) == 3 and all(h.startswith("$argon2id$") for h in hashes)


def test_a_firm_user_belongs_to_one_network_and_is_no_learner_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    code, said = add_user(url, "hr@firm.example", "--network", "net-1", "--network", "net-2", "--firm", "rkt")
    assert code == 2 and "one network" in said
    code, said = add_user(url, "hr@firm.example", "--network", "net-1", "--firm", "rkt", "--learner", "l-7")
    assert code == 2 and "not both" in said
    assert not (tmp_path / "console.db").exists(), "nothing was created"
