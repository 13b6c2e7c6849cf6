"""A real PostgreSQL server in its own run directory (initdb + pg_ctl), without Docker."""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from verbund.stack.locations import INFRA_DIR, run_root
from verbund.stack.ports import free_port
from verbund.stack.processes import log_tail, pid_alive

_SERVICE_USER_FALLBACK = "verbund-pg"
# Throwaway servers for development and tests: durability is traded for speed, which is why this class
# must never be pointed at data anyone wants to keep.
_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}


class PostgresStartError(RuntimeError):
    """The local PostgreSQL server could not be found, installed or started; the message says what to do."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


_PROGRAMS = ("initdb", "pg_ctl", "createdb")


def _complete(folder: Path) -> bool:
    return all((folder / program).exists() for program in _PROGRAMS)


def find_postgres_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and createdb: PATH first, then /usr/lib/postgresql/<newest>/bin."""
    initdb = shutil.which("initdb")
    # PATH often has a lone symlink to initdb (Debian's bin folder is not on PATH); follow it.
    if initdb and _complete(Path(initdb).resolve().parent):
        return Path(initdb).resolve().parent
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if _complete(p)]
    return max(candidates, key=_version_key) if candidates else None


def ensure_postgres_installed() -> Path:
    """The PostgreSQL bin folder; installs Debian's `postgresql` package when missing and running as root."""
    found = find_postgres_bin()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        script = INFRA_DIR / "install-tools.sh"
        result = subprocess.run(
            ["bash", str(script), "postgresql"], capture_output=True, text=True, check=False, timeout=900
        )
        found = find_postgres_bin()
        if found:
            return found
        raise PostgresStartError(
            f"Installing PostgreSQL with {script} failed (exit code {result.returncode}):\n"
            f"{(result.stdout + result.stderr)[-2000:]}\n"
            "Install it by hand (`apt-get install postgresql`) or set VERBUND_TEST_DATABASE_URL to a server."
        )
    raise PostgresStartError(
        "PostgreSQL's server programs (initdb, pg_ctl) were found neither on PATH nor in "
        "/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `sudo apt-get install postgresql`; "
        "Fedora: `sudo dnf install postgresql-server`; macOS: `brew install postgresql`), or run "
        "`sudo make tools`, or point VERBUND_TEST_DATABASE_URL at an existing server "
        "(postgresql+asyncpg://user:password@host:5432/db)."
    )


def _service_account() -> pwd.struct_passwd | None:
    """The unprivileged account that runs the server when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", _SERVICE_USER_FALLBACK):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _SERVICE_USER_FALLBACK],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(_SERVICE_USER_FALLBACK)


def _traversable_by(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether `account` can reach `path`: every ancestor must be searchable for it."""
    groups = {account.pw_gid} | {g.gr_gid for g in grp.getgrall() if account.pw_name in g.gr_mem}
    for ancestor in [path, *path.parents]:
        st = ancestor.stat()
        if st.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


class LocalPostgres:
    """One PostgreSQL server on a loopback port with a password, in its own run directory.

    `url` is an async SQLAlchemy URL (postgresql+asyncpg://...) to the database `database`; `admin_url` is the
    same server's `postgres` database, for CREATE/DROP DATABASE. As root the server runs as the `postgres`
    system account (or a `verbund-pg` account created for it), because PostgreSQL refuses to run as root.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        run_dir: Path | None = None,
        database: str = "verbund",
        user: str = "verbund",
        keep_run_dir: bool = False,
        detached: bool = False,
    ) -> None:
        self.port = port or 0
        self._fixed_port = bool(port)  # None or 0: any free port
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(18)
        self.keep_run_dir = keep_run_dir or run_dir is not None
        self.run_dir = run_dir or run_root() / f"pg-{secrets.token_hex(4)}"
        self.bin_dir: Path | None = None
        self._account = None if os.geteuid() != 0 else _service_account()
        self.detached = detached
        self.started = False

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "postgres.log"

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    @property
    def admin_url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """The async SQLAlchemy URL of another database on this server."""
        return f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    # -- running programs as the service account -----------------------------------------------------------

    def _run(self, program: str, *args: str, timeout: float = 120, env: Mapping[str, str] | None = None) -> None:
        assert self.bin_dir is not None
        kwargs: dict[str, Any] = {}
        if self._account is not None:
            kwargs = {"user": self._account.pw_uid, "group": self._account.pw_gid, "extra_groups": []}
        with (self.run_dir / f"{program}.out").open("ab") as out:
            result = subprocess.run(
                [str(self.bin_dir / program), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.run_dir,
                env={**os.environ, **(env or {})},
                timeout=timeout,
                check=False,
                **kwargs,
            )
        if result.returncode != 0:
            output = log_tail(self.run_dir / f"{program}.out", lines=20)
            server_log = log_tail(self.log_file, lines=20) if self.log_file.exists() else ""
            raise PostgresStartError(
                f"`{program} {' '.join(args)}` failed (exit code {result.returncode}) in {self.run_dir}.\n"
                f"{output}\n{server_log}\n" + _diagnose(output + server_log)
            )

    def _give_to_account(self, path: Path) -> None:
        if self._account is not None:
            os.chown(path, self._account.pw_uid, self._account.pw_gid)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> str:
        """initdb, start on a free loopback port, create the database; returns the async URL."""
        self.bin_dir = ensure_postgres_installed()
        self.run_dir.parent.mkdir(parents=True, exist_ok=True)
        _prune_stale_run_dirs(self.run_dir.parent)
        if self._account is not None and not _traversable_by(self.run_dir.parent, self._account):
            # The repository may live where the service account cannot reach (e.g. /root); use /tmp.
            shared = Path(tempfile.gettempdir()) / "verbund-run"
            shared.mkdir(mode=0o755, exist_ok=True)
            _prune_stale_run_dirs(shared)
            self.run_dir = shared / self.run_dir.name
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._give_to_account(self.run_dir)
        if not self._fixed_port:
            self.port = free_port()
        password_file = self.run_dir / "pwfile"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        self._give_to_account(password_file)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
        finally:
            password_file.unlink(missing_ok=True)
        settings = {**_SERVER_SETTINGS, "port": str(self.port)}
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# verbund local stack\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (self.run_dir / "owner.json").write_text(
            json.dumps({"owner_pid": os.getpid(), "port": self.port, "detached": self.detached})
        )
        self.log_file.touch()
        self._give_to_account(self.log_file)
        try:
            self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
                timeout=timeout + 10,
            )
            self.started = True
            self._run(
                "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                self.database,
                env={"PGPASSWORD": self.password},
            )
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (rolls back open transactions), then delete the run directory unless kept."""
        if self.started and self.bin_dir is not None:
            try:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(int(timeout)), "stop")
            except (PostgresStartError, subprocess.TimeoutExpired):
                _kill_postmaster(self.data_dir)
            self.started = False
        if not self.keep_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def postmaster_pid(data_dir: Path) -> int | None:
    """The server's process id from postmaster.pid, when it is running."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def stop_server(data_dir: Path, bin_dir: Path, timeout: float = 30.0) -> None:
    """Stop a server started earlier (by another process) from its data directory; kill it if it hangs."""
    if postmaster_pid(data_dir) is None:
        return
    kwargs: dict[str, Any] = {}
    if os.geteuid() == 0:
        owner = data_dir.stat()
        kwargs = {"user": owner.st_uid, "group": owner.st_gid, "extra_groups": []}
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=data_dir.parent,
            timeout=timeout + 10,
            check=False,
            **kwargs,
        )
    _kill_postmaster(data_dir)


def _kill_postmaster(data_dir: Path) -> None:
    pid = postmaster_pid(data_dir)
    if pid is None:
        return
    # SIGQUIT is PostgreSQL's immediate shutdown; it needs no clean-up by us beyond deleting the directory.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 3)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


def _prune_stale_run_dirs(root: Path) -> None:
    """Stop and delete servers whose owning process is gone (left by a test run that was killed)."""
    if not root.is_dir():
        return
    for candidate in root.glob("pg-*"):
        try:
            info = json.loads((candidate / "owner.json").read_text())
        except (OSError, ValueError):
            continue
        owner_gone = not pid_alive(int(info.get("owner_pid", 0)))
        server_gone = postmaster_pid(candidate / "data") is None
        # A detached server (`verbund stack up`) outlives its owner on purpose; `down` stops it.
        if owner_gone and (server_gone or not info.get("detached")):
            _kill_postmaster(candidate / "data")
            shutil.rmtree(candidate, ignore_errors=True)


def _diagnose(text: str) -> str:
    if "could not bind" in text or "Address already in use" in text:
        return "The port is in use by another server; choose another port (or 0 for any free one)."
    if "Permission denied" in text:
        return (
            "The server's account cannot reach its run directory; set VERBUND_RUN_DIR to a folder it can "
            "reach (e.g. under /tmp)."
        )
    if "shared memory" in text or "could not map anonymous" in text:
        return "Not enough shared memory; free memory or lower shared_buffers."
    return "Read the output above; the server log is in the run directory."
