"""`verbund console remove-user / remove-member / list-users`: accounts and memberships go, API tokens stay, and the
list never shows a password hash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from verbund.cli import app

PASSWORD = "correct horse battery staple\n"


def console(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["console", *args, "--database", url], input=PASSWORD)
    return result.exit_code, result.output


def accounts_of(url: str) -> None:
    assert console(url, "add-user", "hr@firm.example", "-n", "net-1", "--firm", "rkt", "--password-stdin")[0] == 0
    assert console(url, "add-user", "hr@firm.example", "-n", "net-1", "--firm", "kwa", "--password-stdin")[0] == 0
    assert console(url, "add-user", "lea@example.org", "-n", "net-1", "--learner", "l-7", "--password-stdin")[0] == 0
    assert console(url, "add-user", "coord@example.org", "-n", "net-1", "-n", "net-2", "--password-stdin")[0] == 0


def test_list_users_shows_role_network_and_subject_per_line_and_no_password_hash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    accounts_of(url)

    code, said = console(url, "list-users")
    lines = [line.split() for line in said.splitlines()[1:]]
    assert code == 0, said
    assert lines == [
        ["coord@example.org", "coordinator", "net-1"],
        ["coord@example.org", "coordinator", "net-2"],
        ["hr@firm.example", "firm", "net-1", "kwa"],
        ["hr@firm.example", "firm", "net-1", "rkt"],
        ["lea@example.org", "learner", "net-1", "l-7"],
    ]
    assert "argon2" not in said
    code, said = console(url, "list-users", "--network", "net-2")
    assert [line.split()[0] for line in said.splitlines()[1:]] == ["coord@example.org"]


def test_remove_member_takes_one_firm_away_and_the_account_stays(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    accounts_of(url)

    code, said = console(url, "remove-member", "HR@firm.example", "--network", "net-1", "--firm", "rkt")
    assert code == 0 and "no longer firm rkt of network net-1" in said
    code, said = console(url, "remove-member", "hr@firm.example", "--network", "net-1", "--firm", "rkt")
    assert code == 2 and "is not firm rkt of network net-1" in said
    code, said = console(url, "remove-member", "lea@example.org", "--network", "net-1")
    assert code == 2 and "give --firm or --learner" in said
    code, said = console(url, "remove-member", "lea@example.org", "--network", "net-1", "--learner", "l-7")
    assert code == 0

    with sqlite3.connect(tmp_path / "console.db") as db:
        members = sorted(db.execute("SELECT email, network_id, role, subject_id FROM console_memberships").fetchall())
        users = sorted(e for (e,) in db.execute("SELECT email FROM console_users"))
    assert members == [("hr@firm.example", "net-1", "firm", "kwa")]
    assert users == ["coord@example.org", "hr@firm.example", "lea@example.org"]
    code, said = console(url, "list-users")
    assert "lea@example.org" in said and "(nothing)" in said, "an account with no role still shows, to be removed"


def test_remove_user_takes_grants_and_memberships_and_leaves_the_firms_api_tokens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    accounts_of(url)
    assert console(url, "issue-token", "-n", "net-1", "-f", "rkt", "--name", "HR system")[0] == 0

    assert console(url, "remove-user", "hr@firm.example") == (0, "Removed hr@firm.example.\n")
    assert console(url, "remove-user", "Coord@Example.org")[0] == 0
    code, said = console(url, "remove-user", "hr@firm.example")
    assert code == 2 and "There is no account 'hr@firm.example'" in said

    with sqlite3.connect(tmp_path / "console.db") as db:
        users = [e for (e,) in db.execute("SELECT email FROM console_users")]
        grants = db.execute("SELECT * FROM console_grants").fetchall()
        members = db.execute("SELECT email, subject_id FROM console_memberships").fetchall()
    assert users == ["lea@example.org"] and grants == [] and members == [("lea@example.org", "l-7")]
    code, said = console(url, "list-tokens")
    assert code == 0 and "net-1 / rkt" in said and "active" in said
