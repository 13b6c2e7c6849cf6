"""The matcher's configuration, read from VERBUND_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from verbund_runtime.keyring import key_service_token_field
from verbund_runtime.settings import ServiceSettings, health_port


class MatcherSettings(ServiceSettings):
    """Every knob of the matcher; defaults run it on a laptop against a local broker and SQLite."""

    database_url: str = Field(
        default="sqlite+aiosqlite:///verbund.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db",
    )
    group_id: str = Field(default="verbund-matcher", description="Kafka consumer group of the matcher replicas")
    client_id: str = Field(default="verbund-matcher", description="Kafka client id (shows up in broker logs)")
    week_horizon_years_back: int = Field(
        default=5,
        ge=0,
        le=50,
        description="An inbound event may name weeks from this many years before today (a network's "
        "NetworkConfigured may say otherwise); an earlier week is rejected",
    )
    week_horizon_years_ahead: int = Field(
        default=10,
        ge=1,
        le=50,
        description="An inbound event may name weeks up to this many years after today (a network's "
        "NetworkConfigured may say otherwise); a later week is rejected",
    )
    require_sender: bool = Field(
        default=False,
        description="Reject every event on the shared inbound topic without an authcontext (an authenticated "
        "sender) as 'not authorised: no sender'. Off by default: the CLI and coordinators' tools send none; a "
        "firm's own topic names its sender itself (docs/security.md)",
    )
    batch_max_records: int = Field(default=500, ge=1, description="Most inbound records handled in one batch")
    batch_timeout_ms: int = Field(default=200, ge=1, description="How long a batch waits to fill up")
    replan_time_limit: float = Field(
        default=5.0, gt=0, description="Seconds for the solve that follows a repair which left requirements open"
    )
    replan_solve_max_learners: int = Field(
        default=200,
        ge=0,
        description="Largest network whose batch may wait for that solve; bigger ones wait for the re-optimisation",
    )
    full_reoptimise_interval: float = Field(
        default=3600.0, ge=0, description="Seconds between full re-optimisations of a network (0: never)"
    )
    full_reoptimise_time_limit: float = Field(default=30.0, gt=0, description="Seconds per full re-optimisation")
    solver_workers: int = Field(default=2, ge=1, description="CP-SAT worker threads per solve")
    solver_seed: int = Field(default=0, description="Random seed of the planner's searches")
    solver_deterministic: bool = Field(
        default=True,
        description="Solve budgets in deterministic work, not seconds: the same events in the same batches give the"
        " same plans on any machine load (wall time per solve then varies)",
    )
    plan_retry_base_seconds: float = Field(
        default=30.0,
        gt=0,
        description="When planning a network fails, its published plan is marked stale and planned again after "
        "this many seconds (also how often stale plans are looked for); doubled after each further failure",
    )
    plan_retry_max_seconds: float = Field(
        default=1800.0, gt=0, description="Longest pause between two tries of planning a network whose plan is stale"
    )
    freeze_hour_utc: int = Field(
        default=2, ge=0, le=23, description="Hour (UTC) of the daily freeze job (and of pruning old rows)"
    )
    retention_hour_utc: int = Field(
        default=3,
        ge=0,
        le=23,
        description="Hour (UTC) of the daily retention job: learners whose network's retention_months ran out "
        "after their last week are erased (docs/data-protection.md)",
    )
    inbox_retention_days: float = Field(
        default=35.0,
        gt=0,
        description="Days handled event ids are remembered; keep above the inbound topic's retention (30 days)",
    )
    outbox_retention_days: float = Field(default=7.0, gt=0, description="Days published outbox rows are kept")
    relay_batch_size: int = Field(default=500, ge=1, description="Most outbox rows published per round")
    relay_poll_seconds: float = Field(default=0.5, gt=0, description="Outbox poll interval when idle")
    relay_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Times Kafka may refuse one outbox event (too large, a topic that rejects it) before it is "
        "parked and the events after it go on; a broker that is down counts no attempt",
    )
    relay_max_request_size: int = Field(
        default=1048576, ge=1024, description="Largest request the relay's producer sends, in bytes"
    )
    inbound_retry_attempts: int = Field(
        default=5,
        ge=1,
        description="Times an inbound batch is tried when the database or broker fails (or a timeout, or a "
        "conflict) before its records are parked on the parked topic and the consumer goes on",
    )
    inbound_retry_backoff_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Pause before the second try of a failed inbound batch; doubled for each further try, "
        "at most 30 s (keep the sum under the consumer's max poll interval, 300 s)",
    )
    ready_max_outbox_age_seconds: float = Field(
        default=120.0,
        gt=0,
        description="/readyz fails while the oldest unpublished outbox event is older than this (a stuck relay)",
    )
    health_port: int = health_port(8081)
    shutdown_grace_seconds: float = Field(default=30.0, gt=0, description="How long SIGTERM waits for a batch")
    lag_poll_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between updates of the consumer-lag gauge on /metrics"
    )
    gc_full_collect_seconds: float = Field(
        default=600.0,
        ge=0,
        description=(
            "Seconds between full garbage collections; in between, what survives a batch is frozen (gc.freeze) "
            "so that Python's own full collections do not stall the event loop. 0: leave it to Python"
        ),
    )
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        default="earliest", description="Where a new consumer group starts"
    )
    migrate: bool = Field(default=True, description="Run `alembic upgrade head` at start")
    master_key_file: str = Field(
        default="verbund-master.key",
        description="File of the master key that wraps the data keys in the matcher's key table (base64url of 32 "
        "bytes); written, readable by its owner only, when the first data key is made. Keep it out of backups of "
        "the database: a dump alone then opens no personal data",
    )
    key_service_token: SecretStr | None = key_service_token_field()
    accept_plaintext_personal_data: bool = Field(
        default=True,
        description="Apply inbound events that carry names and contacts in clear text (from producers older than "
        "sealing). Turn off once every producer seals: such events are then rejected, saying how to send them",
    )
