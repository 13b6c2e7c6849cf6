"""A matcher serving its key endpoint, and a forced network's two learners registered with sealed personal data."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from forced_network import ForcedNetwork, _learner
from kafka_tools import consume
from matcher_harness import events_of, settings_for
from verbund_matcher.runner import run_matcher
from verbund_matcher.settings import MatcherSettings
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import LearnerRegistered, load_event, topic

from verbund.publish import send_events


def key_serving(bootstrap: str, database_url: str, master_key_file: str, token: str) -> tuple[MatcherSettings, str]:
    """The matcher's settings with the key endpoint on its health port open to `token`, and the endpoint's URL."""
    settings = settings_for(bootstrap, database_url, master_key_file=master_key_file, key_service_token=token)
    return settings, f"http://127.0.0.1:{settings.health_port}"


async def two_learners_planned(bootstrap: str, network: ForcedNetwork, keyring: HttpKeyring) -> None:
    """The network's setup and learners L0000 and L0001 sent, their personal data sealed through `keyring`; returns
    once the matcher has published the network's first five assignments."""
    nid = network.network_id
    learners = [
        load_event(network._event("LearnerRegistered", _learner(nid, learner, first)))
        for learner, first in (("L0000", 0), ("L0001", 3))
    ]
    assert all(isinstance(e, LearnerRegistered) for e in learners)
    setup = [load_event(e) for e in network.setup()]
    await send_events([*setup, *learners], bootstrap, topic("inbound"), keyring)
    await consume(bootstrap, topic("assignments"), until=lambda rs: len(events_of(rs, {nid})) >= 5, timeout=90)


@dataclass(frozen=True)
class SealedNetwork:
    """A forced network planned by a running matcher, and that matcher's key endpoint with a keyring open on it."""

    network: ForcedNetwork
    key_service_url: str
    keyring: HttpKeyring

    @property
    def network_id(self) -> str:
        return self.network.network_id


@asynccontextmanager
async def two_sealed_learners_planned(
    bootstrap: str, database_url: str, folder: Path, token: str, today: dt.date, prefix: str
) -> AsyncIterator[SealedNetwork]:
    """A matcher serving its key endpoint to `token` (master key in `folder`) that has planned a new forced network,
    its id starting with `prefix`, with learners L0000 and L0001 registered sealed; the keyring closed afterwards."""
    network = ForcedNetwork(f"{prefix}-{uuid.uuid4().hex[:8]}")
    settings, url = key_serving(bootstrap, database_url, str(folder / "master.key"), token)
    async with run_matcher(settings, today=lambda: today) as matcher:
        await matcher.until_consuming()
        keyring = HttpKeyring(url, token)
        try:
            await two_learners_planned(bootstrap, network, keyring)
            yield SealedNetwork(network, url, keyring)
        finally:
            await keyring.close()
