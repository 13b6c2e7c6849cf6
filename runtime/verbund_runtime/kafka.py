"""Kafka client settings (bootstrap address and SASL security), built in one place for every client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
DEFAULT_SASL_MECHANISM = "SCRAM-SHA-512"

# The environment variables every Verbund process reads (services, relay, CLI, tests); the one list of them.
PROTOCOL_ENV = "VERBUND_KAFKA_SECURITY_PROTOCOL"
MECHANISM_ENV = "VERBUND_KAFKA_SASL_MECHANISM"
USERNAME_ENV = "VERBUND_KAFKA_USERNAME"
PASSWORD_ENV = "VERBUND_KAFKA_PASSWORD"
PASSWORD_FILE_ENV = "VERBUND_KAFKA_PASSWORD_FILE"
CAFILE_ENV = "VERBUND_KAFKA_SSL_CAFILE"
SECURITY_ENV = (PROTOCOL_ENV, MECHANISM_ENV, USERNAME_ENV, PASSWORD_ENV, PASSWORD_FILE_ENV, CAFILE_ENV)


class KafkaSecurityError(ValueError):
    """The Kafka security settings do not fit together; the message names the variable to fix."""


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client proves who it is to the brokers: nothing (PLAINTEXT), or a SASL user and password."""

    protocol: str = "PLAINTEXT"
    mechanism: str = DEFAULT_SASL_MECHANISM
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None

    def __post_init__(self) -> None:
        if self.protocol not in SECURITY_PROTOCOLS:
            raise KafkaSecurityError(f"{PROTOCOL_ENV}={self.protocol!r} is not one of {', '.join(SECURITY_PROTOCOLS)}.")
        if self.sasl:
            if self.mechanism not in SASL_MECHANISMS:
                raise KafkaSecurityError(
                    f"{MECHANISM_ENV}={self.mechanism!r} is not one of {', '.join(SASL_MECHANISMS)}."
                )
            if not self.username or self.password is None:
                raise KafkaSecurityError(
                    f"{PROTOCOL_ENV}={self.protocol} needs a user and a password: set {USERNAME_ENV} and "
                    f"{PASSWORD_ENV} (or {PASSWORD_FILE_ENV}, a file holding it)."
                )

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaSecurity:
        """The security the VERBUND_KAFKA_* variables describe; PLAINTEXT when none is set.

        A user without a protocol means SASL_PLAINTEXT: naming a user is asking to authenticate.
        """
        env = os.environ if environ is None else environ
        username = env.get(USERNAME_ENV, "").strip() or None
        password = env.get(PASSWORD_ENV)
        password_file = env.get(PASSWORD_FILE_ENV, "").strip()
        if password is None and password_file:
            try:
                password = Path(password_file).expanduser().read_text().strip()
            except OSError as exc:
                raise KafkaSecurityError(f"{PASSWORD_FILE_ENV}={password_file} cannot be read: {exc}") from exc
        protocol = env.get(PROTOCOL_ENV, "").strip().upper() or ("SASL_PLAINTEXT" if username else "PLAINTEXT")
        mechanism = env.get(MECHANISM_ENV, "").strip().upper() or DEFAULT_SASL_MECHANISM
        return cls(
            protocol=protocol,
            mechanism=mechanism,
            username=username,
            password=password,
            ssl_cafile=env.get(CAFILE_ENV, "").strip() or None,
        )

    def environment(self) -> dict[str, str]:
        """The variables that give a child process this security (a service started by the local stack)."""
        env = {PROTOCOL_ENV: self.protocol}
        if self.sasl:
            assert self.username is not None and self.password is not None
            env |= {MECHANISM_ENV: self.mechanism, USERNAME_ENV: self.username, PASSWORD_ENV: self.password}
        if self.ssl_cafile:
            env[CAFILE_ENV] = self.ssl_cafile
        return env


PLAINTEXT = KafkaSecurity()


def client_options(bootstrap_servers: str, security: KafkaSecurity | None = None) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer, consumer and admin client: where, and as whom.

    Without `security` the VERBUND_KAFKA_* variables decide, so a helper that only knows an address still
    authenticates like the process it runs in.
    """
    chosen = security if security is not None else KafkaSecurity.from_env()
    options: dict[str, Any] = {"bootstrap_servers": bootstrap_servers, "security_protocol": chosen.protocol}
    if chosen.sasl:
        options |= {
            "sasl_mechanism": chosen.mechanism,
            "sasl_plain_username": chosen.username,
            "sasl_plain_password": chosen.password,
        }
    if chosen.tls:
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context(cafile=chosen.ssl_cafile)
    return options


def faststream_security(security: KafkaSecurity | None = None) -> BaseSecurity | None:
    """The same settings as FastStream's KafkaBroker(security=...) wants them (None: PLAINTEXT)."""
    from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

    chosen = security if security is not None else KafkaSecurity.from_env()
    ssl_context = None
    if chosen.tls:
        from aiokafka.helpers import create_ssl_context

        ssl_context = create_ssl_context(cafile=chosen.ssl_cafile)
    if not chosen.sasl:
        return BaseSecurity(ssl_context=ssl_context) if chosen.tls else None
    assert chosen.username is not None and chosen.password is not None
    kinds: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }
    return kinds[chosen.mechanism](
        username=chosen.username, password=chosen.password, ssl_context=ssl_context, use_ssl=chosen.tls
    )
