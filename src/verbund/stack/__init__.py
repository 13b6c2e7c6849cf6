"""The local stack: a real Apache Kafka broker and PostgreSQL server without Docker, and how to choose one."""

from verbund.stack.background import running_kafka_bootstrap
from verbund.stack.kafka_local import KAFKA_VERSION, KafkaStartError, LocalKafka, fetch_kafka_jars
from verbund.stack.postgres_local import LocalPostgres, PostgresStartError
from verbund.stack.selection import KafkaEndpoint, PostgresEndpoint, provide_kafka, provide_postgres
from verbund.stack.topics import TopicReport, ensure_topics

__all__ = [
    "KAFKA_VERSION",
    "KafkaEndpoint",
    "KafkaStartError",
    "LocalKafka",
    "LocalPostgres",
    "PostgresEndpoint",
    "PostgresStartError",
    "TopicReport",
    "ensure_topics",
    "fetch_kafka_jars",
    "provide_kafka",
    "provide_postgres",
    "running_kafka_bootstrap",
]
