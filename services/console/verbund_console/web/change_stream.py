"""The Server-Sent Events stream a console page follows to see a network's changes live, resumable after a reconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from ..service.live import ChangeSignal
from ..store.readmodel import ReadModel
from ..store.tables import Change

# How long the stream sleeps between looks at the store when no change was announced in this process
# (the consumers may run in another replica): well under the 1 s in which a page must show a change.
POLL_SECONDS = 0.4

# What a page is told of new changes: (change number, event data) pairs, none when there are no changes.
Telling = Callable[[list[Change]], list[tuple[int, str]]]


def change_stream(
    request: Request, read_model: ReadModel, signal: ChangeSignal, network_id: str, tell: Telling, rebuilt: str
) -> Response:
    """The network's changes after the last one the page saw, as `tell` words them; `rebuilt` when the read model
    numbers its changes anew, so the page knows it shows an older state."""
    # On a reconnect the browser sends the last change it saw; the first connection says it in the URL.
    given = request.headers.get("last-event-id") or request.query_params.get("since") or "0"
    try:
        start = max(0, int(given))
    except ValueError:
        start = 0

    async def stream() -> AsyncIterator[ServerSentEvent]:
        seq = start
        yield ServerSentEvent(comment="connected", retry=1000)
        network = await read_model.network(network_id)
        newest = network.last_seq if network else 0
        if seq > newest:
            seq = newest
            yield ServerSentEvent(data=rebuilt, event="change", id=str(seq))
        while True:
            told = tell(await read_model.changes_since(network_id, seq))
            for seq, data in told:
                yield ServerSentEvent(data=data, event="change", id=str(seq))
            if not told:
                await signal.wait_beyond(network_id, seq, POLL_SECONDS)

    return EventSourceResponse(stream(), ping=15, headers={"cache-control": "no-store"})
