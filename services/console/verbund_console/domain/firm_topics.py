"""What the console folds from a firm's own inbound topic: that firm's own details, offers and answers only."""

from __future__ import annotations

from verbund_schemas import (
    CapacityChanged,
    CapacityOffered,
    CapacityWithdrawn,
    Envelope,
    FirmUpdated,
    InboundEnvelope,
    PlacementAnswered,
    Role,
)


def offer_of(event: Envelope) -> str | None:
    """The offer an event is about, whose stored firm decides whether a firm may touch it."""
    match event:
        case CapacityOffered(data=data) | CapacityChanged(data=data) | CapacityWithdrawn(data=data):
            return data.offer_id
        case _:
            return None


def refusal(event: Envelope, firm_id: str, *, firm_registered: bool, offer_owner: str | None) -> str | None:
    """None when firm `firm_id`, the only writer of its topic, may send `event`; else why not.

    The matcher's checks, as far as the read model knows the network: the matcher rejects what is refused here
    (the rejection shows on the rejected page), so folding it would show a change that never happened.
    """
    sender = event.authcontext if isinstance(event, InboundEnvelope) else None
    if sender is not None and (
        sender.role is not Role.FIRM or sender.firm_id != firm_id or sender.network_id != event.network_id
    ):
        return f"its authcontext names {sender.role.value} {sender.principalid!r}, not firm {firm_id!r}"
    if not firm_registered:
        return f"{firm_id!r} is not a firm of network {event.network_id!r}"
    if offer_owner is not None and offer_owner != firm_id:
        return f"offer {offer_of(event)!r} is firm {offer_owner!r}'s"
    match event:
        case CapacityOffered(data=data) | FirmUpdated(data=data) | PlacementAnswered(data=data):
            return None if data.firm_id == firm_id else f"it is about firm {data.firm_id!r}"
        case CapacityChanged() | CapacityWithdrawn():
            return None
        case _:
            return f"a firm may not send {event.type}"
