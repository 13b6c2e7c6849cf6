"""Kafka client security is read from VERBUND_KAFKA_* in one place, and refuses settings that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from faststream.security import SASLPlaintext, SASLScram512
from verbund_matcher.settings import MatcherSettings
from verbund_runtime.kafka import KafkaSecurity, KafkaSecurityError, client_options, faststream_security


def test_nothing_set_means_plaintext_without_sasl_options() -> None:
    security = KafkaSecurity.from_env({})
    assert security.protocol == "PLAINTEXT"
    assert client_options("k:9092", security) == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert faststream_security(security) is None


def test_a_user_without_a_protocol_asks_for_scram_sha_512_over_sasl_plaintext() -> None:
    security = KafkaSecurity.from_env({"VERBUND_KAFKA_USERNAME": "matcher", "VERBUND_KAFKA_PASSWORD": "s3cret"})
    options = client_options("k:9092", security)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("matcher", "s3cret")
    broker_security = faststream_security(security)
    assert isinstance(broker_security, SASLScram512)
    assert (broker_security.username, broker_security.password, broker_security.use_ssl) == ("matcher", "s3cret", False)


def test_the_password_is_read_from_a_file_and_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("from-a-file\n")
    security = KafkaSecurity.from_env({"VERBUND_KAFKA_USERNAME": "console", "VERBUND_KAFKA_PASSWORD_FILE": str(secret)})
    assert security.password == "from-a-file"
    assert "from-a-file" not in repr(security)


def test_plain_mechanism_gives_faststream_sasl_plaintext() -> None:
    security = KafkaSecurity(protocol="SASL_PLAINTEXT", mechanism="PLAIN", username="cli", password="p")
    assert isinstance(faststream_security(security), SASLPlaintext)


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"VERBUND_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "VERBUND_KAFKA_USERNAME"),
        ({"VERBUND_KAFKA_SECURITY_PROTOCOL": "KERBEROS"}, "VERBUND_KAFKA_SECURITY_PROTOCOL"),
        ({"VERBUND_KAFKA_USERNAME": "x", "VERBUND_KAFKA_PASSWORD": "y", "VERBUND_KAFKA_SASL_MECHANISM": "MD5"}, "MECH"),
        ({"VERBUND_KAFKA_USERNAME": "x", "VERBUND_KAFKA_PASSWORD_FILE": "/nonexistent/kafka"}, "PASSWORD_FILE"),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_variable(environ: dict[str, str], names: str) -> None:
    with pytest.raises(KafkaSecurityError, match=names):
        KafkaSecurity.from_env(environ)


def test_a_service_reads_the_same_variables_through_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBUND_KAFKA_USERNAME", "matcher")
    monkeypatch.setenv("VERBUND_KAFKA_PASSWORD", "from-env")
    monkeypatch.setenv("VERBUND_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    security = MatcherSettings().kafka_security()
    assert (security.protocol, security.username, security.password) == ("SASL_SSL", "matcher", "from-env")
    assert security.environment()["VERBUND_KAFKA_PASSWORD"] == "from-env"
