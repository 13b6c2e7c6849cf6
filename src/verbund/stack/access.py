"""Who may do what on the local broker: its SCRAM principals, their passwords, and the ACLs each one gets."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest, DeleteAclsRequest
from verbund_runtime.kafka import KafkaSecurity, client_options
from verbund_schemas.topics import Topic, TopicFamily, firm_inbound

SCRAM_MECHANISM = "SCRAM-SHA-512"
# The super user: the broker itself (inter-broker and controller traffic) and whoever sets the stack up.
ADMIN = "admin"
# One principal per service, and one for the operator's command-line tools (publish, watch, parked, demo).
SERVICE_PRINCIPALS = ("matcher", "notifier", "console", "cli")
# A firm's machine principal is named firm-<id>: it can be told apart from the services at a glance.
FIRM_PRINCIPAL = re.compile(r"^firm-[a-z0-9][a-z0-9._-]{0,62}$")

Operation = Literal["READ", "WRITE", "DESCRIBE"]
# Kafka's wire codes (org.apache.kafka.common.acl / resource): aiokafka sends the raw requests.
_RESOURCE = {"topic": 2, "group": 3}
_PATTERN = {"literal": 3, "prefixed": 4}
_OPERATION = {"ANY": 1, "READ": 3, "WRITE": 4, "DESCRIBE": 8}
_ALLOW = 3
_ANY = 1


class AccessSetupError(RuntimeError):
    """Principals or ACLs could not be created on the broker; the message says what the broker answered."""


@dataclass(frozen=True)
class Grant:
    """One ALLOW ACL: the principal may do `operation` on the topic or group named (or starting with) `name`."""

    resource: Literal["topic", "group"]
    name: str
    operation: Operation
    pattern: Literal["literal", "prefixed"] = "literal"


def _group_prefixes(service: str) -> tuple[str, ...]:
    # The services' default consumer groups, and the ones `verbund demo` gives each of its runs.
    return (f"verbund-{service}", f"verbund-demo-{service}")


def firm_of_principal(principal: str) -> str:
    """The firm id of a firm's machine principal firm-<id>."""
    if not FIRM_PRINCIPAL.match(principal):
        raise ValueError(f"{principal!r} is not a firm's principal (firm-<id>)")
    return principal.removeprefix("firm-")


def grants_for(role: str, topics: Mapping[str, Topic], firm_topics: TopicFamily | None = None) -> tuple[Grant, ...]:
    """The ACL table: each role (a service principal's name, `cli`, or a firm's firm-<id>) gets the topic and
    group rights its code uses, and nothing else. `firm_topics`: the firms' inbound topics (as topics.toml and
    VERBUND_TOPIC_PREFIX say, unless given)."""
    principal = role
    family = firm_topics or firm_inbound()
    # Whoever reads inbound reads what firms send on their own topics too, including firms added later.
    firms_inbound = Grant("topic", family.prefix, "READ", "prefixed")

    def read(*roles: str) -> list[Grant]:
        return [Grant("topic", topics[r].name, "READ") for r in roles]

    def write(*roles: str) -> list[Grant]:
        return [Grant("topic", topics[r].name, "WRITE") for r in roles]

    def groups(service: str) -> list[Grant]:
        return [Grant("group", p, "READ", "prefixed") for p in _group_prefixes(service)]

    if principal == "matcher":
        # It reads the parked topic for operators' replay requests of its parked outbox events, and writes the
        # erasure requests of its retention job to the inbound topic (docs/data-protection.md).
        return (
            *read("inbound", "parked"),
            firms_inbound,
            *write("inbound", "assignments", "shortfalls", "rejected", "parked"),
            *groups("matcher"),
        )
    if principal == "notifier":
        # It reads the inbound topic for the contact directory (names and addresses of firms and learners).
        return (
            *read("inbound", "assignments", "shortfalls"),
            firms_inbound,
            *write("notifications", "parked"),
            *groups("notifier"),
        )
    if principal == "console":
        # It posts the events its users (firms' API tokens, coordinators) send; a learner's export for download
        # holds the delivery log of the notifications topic, as `verbund learner export` does.
        return (
            *read("inbound", "assignments", "shortfalls", "rejected", "notifications"),
            firms_inbound,
            *write("inbound"),
            *groups("console"),
        )
    if principal == "cli":
        return (
            *read(*topics),
            firms_inbound,
            # publish; `parked replay` puts a record back on the topic it was consumed from, and marks it: a
            # firm's own inbound topic too.
            *write("inbound", "assignments", "shortfalls", "parked"),
            Grant("topic", family.prefix, "WRITE", "prefixed"),
            # The demo and operators read the services' committed offsets (lag), never join their groups.
            Grant("group", "verbund-", "DESCRIBE", "prefixed"),
        )
    if FIRM_PRINCIPAL.match(principal):
        # Its own topic only, by its literal name: the topic a record came from then says which firm sent it
        # (Kafka does not stamp the producer on a record). Not the shared inbound topic, not another firm's.
        return (Grant("topic", family.member(firm_of_principal(principal)).name, "WRITE"),)
    raise ValueError(f"no ACLs are defined for principal {principal!r}")


@dataclass(frozen=True)
class BrokerCredentials:
    """The SCRAM passwords a local broker is formatted with: the admin and each service principal."""

    passwords: Mapping[str, str]

    @property
    def admin(self) -> KafkaSecurity:
        return self.security(ADMIN)

    def security(self, principal: str) -> KafkaSecurity:
        return KafkaSecurity(
            protocol="SASL_PLAINTEXT",
            mechanism=SCRAM_MECHANISM,
            username=principal,
            password=self.passwords[principal],
        )

    @classmethod
    def generate(cls, admin: str = ADMIN, admin_password: str | None = None) -> BrokerCredentials:
        """Fresh random passwords (a broker for one test run); the admin's may be given."""
        passwords = {p: new_password() for p in SERVICE_PRINCIPALS}
        passwords[admin] = admin_password or new_password()
        return cls(passwords)

    @classmethod
    def for_environment(cls) -> BrokerCredentials:
        """A broker whose super user is the one VERBUND_KAFKA_* name (so this process and its children can use
        it as they are configured), else fresh ones."""
        configured = KafkaSecurity.from_env()
        if configured.sasl and configured.mechanism == SCRAM_MECHANISM and configured.username:
            return cls.generate(configured.username, configured.password)
        return cls.generate()

    @property
    def admin_name(self) -> str:
        return next(name for name in self.passwords if name not in SERVICE_PRINCIPALS)


def new_password() -> str:
    # URL-safe characters only: they need no quoting in JAAS lines, kcat's -X or `--add-scram`.
    return secrets.token_urlsafe(24)


def password_file(directory: Path, principal: str) -> Path:
    return directory / f"{principal}.password"


def load_or_create_credentials(directory: Path) -> BrokerCredentials:
    """The stack's passwords, one file per principal (mode 600) in a folder only the owner can open; made on
    first use, then kept, so a restarted broker and its services agree on them."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    passwords: dict[str, str] = {}
    for principal in (ADMIN, *SERVICE_PRINCIPALS):
        path = password_file(directory, principal)
        try:
            password = path.read_text().strip()
        except OSError:
            password = ""
        if len(password) < 16:
            password = new_password()
            tmp = path.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)
            tmp.touch(mode=0o600)
            tmp.write_text(password + "\n")
            tmp.replace(path)
        passwords[principal] = password
    return BrokerCredentials(passwords)


def scram_arguments(credentials: BrokerCredentials) -> list[str]:
    """`kafka-storage format` arguments that store every principal's SCRAM credential before the first start."""
    arguments: list[str] = []
    for name, password in credentials.passwords.items():
        arguments += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]"]
    return arguments


async def grant(
    bootstrap: str, admin: KafkaSecurity, principal: str, grants: Iterable[Grant], *, timeout_s: float = 30.0
) -> int:
    """Create the ACLs (ones that exist already are kept by the broker as they are); returns how many were sent."""
    client = AIOKafkaAdminClient(**client_options(bootstrap, admin), request_timeout_ms=int(timeout_s * 1000))
    count = 0
    try:
        await client.start()
        for g in grants:
            request = CreateAclsRequest(
                resource_type=_RESOURCE[g.resource],
                resource_name=g.name,
                resource_pattern_type_filter=_PATTERN[g.pattern],
                principal=f"User:{principal}",
                host="*",
                operation=_OPERATION[g.operation],
                permission_type=_ALLOW,
            )
            response = await client._send_request(request)
            for code, message in response.creation_responses:
                if code != 0:
                    raise AccessSetupError(
                        f"Kafka at {bootstrap} refused the ACL {g} for User:{principal}: "
                        f"{for_code(code).__name__} {message or ''}".rstrip()
                    )
            count += 1
    finally:
        with contextlib.suppress(Exception):
            await client.close()
    return count


async def revoke_all(bootstrap: str, admin: KafkaSecurity, principal: str, *, timeout_s: float = 30.0) -> None:
    """Delete every ACL that names the principal."""
    client = AIOKafkaAdminClient(**client_options(bootstrap, admin), request_timeout_ms=int(timeout_s * 1000))
    try:
        await client.start()
        for resource in _RESOURCE.values():
            request = DeleteAclsRequest(
                resource_type=resource,
                resource_name=None,  # null matches every name
                resource_pattern_type_filter=_ANY,
                principal=f"User:{principal}",
                host=None,
                operation=_OPERATION["ANY"],
                permission_type=_ANY,
            )
            await client._send_request(request)
    finally:
        with contextlib.suppress(Exception):
            await client.close()


def _admin_properties(admin: KafkaSecurity, directory: Path) -> Path:
    assert admin.username is not None and admin.password is not None
    fd, name = tempfile.mkstemp(prefix="admin-", suffix=".properties", dir=directory)
    with os.fdopen(fd, "w") as fh:  # mkstemp makes it mode 600: it holds the admin's password
        fh.write(f"security.protocol={admin.protocol}\nsasl.mechanism={admin.mechanism}\n")
        fh.write(
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{admin.username}" password="{admin.password}";\n'
        )
    return Path(name)


def alter_scram_user(
    java: str, libs: Path, bootstrap: str, admin: KafkaSecurity, principal: str, password: str | None, work_dir: Path
) -> None:
    """Create (or give a new password to) a SCRAM user, or with password=None delete its credential, through
    Kafka's own ConfigCommand from the broker's jars."""
    work_dir.mkdir(parents=True, exist_ok=True)
    properties = _admin_properties(admin, work_dir)
    change = ["--delete-config", SCRAM_MECHANISM]
    secret_file: Path | None = None
    if password is not None:
        # From a file (mode 600), not the command line, where any user's `ps` would show it.
        fd, name = tempfile.mkstemp(prefix="scram-", suffix=".properties", dir=work_dir)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{SCRAM_MECHANISM}=password={password}\n")
        secret_file = Path(name)
        change = ["--add-config-file", name]
    command = [
        java,
        "-Xmx128m",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        f"{libs}/*",
        "kafka.admin.ConfigCommand",
        "--bootstrap-server",
        bootstrap,
        "--command-config",
        str(properties),
        "--alter",
        *change,
        "--entity-type",
        "users",
        "--entity-name",
        principal,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    finally:
        properties.unlink(missing_ok=True)
        if secret_file is not None:
            secret_file.unlink(missing_ok=True)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise AccessSetupError(f"Kafka's ConfigCommand could not change user {principal!r}:\n{output}")
