"""Who may send which inbound event: the principal of its authcontext against the network's state."""

from __future__ import annotations

from verbund_schemas import (
    AuthContext,
    CapacityChanged,
    CapacityOffered,
    CapacityWithdrawn,
    Envelope,
    FirmUpdated,
    InboundEnvelope,
    LearnerPreferencesStated,
    PlacementAnswered,
    Role,
)

from .network import NetworkState

NOT_AUTHORISED = "not authorised: "


def authorise(
    event: Envelope, state: NetworkState, *, require_sender: bool, firm_topic: str | None = None
) -> str | None:
    """None when the event's sender may send it here; else the reason, starting with `not authorised: `.

    Pure: reads the state (who owns an offer) and changes nothing. An event without a sender passes unless
    `require_sender`: producers that predate the authcontext (the CLI, coordinators' scripts) send none.
    `firm_topic` is the firm whose own inbound topic the event came from: the broker lets only that firm's
    principal write there, so the firm is the sender, whatever the event says.
    """
    sender = event.authcontext if isinstance(event, InboundEnvelope) else None
    if firm_topic is not None:
        return _from_firm_topic(event, state, sender, firm_topic)
    if sender is None:
        if require_sender:
            return (
                NOT_AUTHORISED + "no sender; this matcher requires every inbound event to carry the authcontext of "
                "an authenticated principal (VERBUND_REQUIRE_SENDER): send it through the console's HTTP API"
            )
        return None
    if sender.role is Role.SYSTEM:
        return None
    who = f"{sender.role.value} {sender.principalid!r}"
    if sender.network_id != event.subject:
        return NOT_AUTHORISED + f"{who} belongs to network {sender.network_id!r}, not {event.subject!r}"
    if sender.role is Role.COORDINATOR:
        return None
    if sender.role is Role.LEARNER:
        return _learner_may(event, who, sender.learner_id)
    return _firm_may(event, state, who, sender.firm_id)


def _from_firm_topic(event: Envelope, state: NetworkState, sender: AuthContext | None, firm_id: str) -> str | None:
    who = f"firm principal 'firm-{firm_id}'"
    # An authcontext on such a record is the firm's own claim: it may only agree with the topic.
    if sender is not None and (
        sender.role is not Role.FIRM or sender.firm_id != firm_id or sender.network_id != event.subject
    ):
        claimed = f"{sender.role.value} {sender.principalid!r} of network {sender.network_id!r}"
        if sender.firm_id is not None:
            claimed += f" acting for firm {sender.firm_id!r}"
        return (
            NOT_AUTHORISED + f"{event.type} came on the inbound topic of firm {firm_id!r}, which only {who} may "
            f"write, but its authcontext names {claimed}; a firm's system sends as its own firm only"
        )
    if firm_id not in state.firms:
        return NOT_AUTHORISED + f"{who}: {firm_id!r} is not a firm of network {event.subject!r}"
    return _firm_may(event, state, who, firm_id)


def _learner_may(event: Envelope, who: str, learner_id: str | None) -> str | None:
    # A learner states their own preferences; their registration, window and exclusions are the office's.
    if not isinstance(event, LearnerPreferencesStated):
        return NOT_AUTHORISED + f"{who} may not send {event.type}; a learner only states their own preferences"
    if learner_id is None or event.data.learner_id != learner_id:
        return (
            NOT_AUTHORISED + f"{who} is learner {learner_id!r} and may not state preferences of "
            f"{event.data.learner_id!r}"
        )
    return None


def _firm_may(event: Envelope, state: NetworkState, who: str, firm_id: str | None) -> str | None:
    if firm_id is None:
        return NOT_AUTHORISED + f"{who} names no firm_id, so it acts for no firm"
    match event:
        case CapacityOffered(data=data):
            if data.firm_id != firm_id:
                return (
                    NOT_AUTHORISED + f"{who} acts for firm {firm_id!r} and may not offer capacity of {data.firm_id!r}"
                )
            return _own_offer(state, data.offer_id, who, firm_id, "reuse")
        case CapacityChanged(data=data):
            return _own_offer(state, data.offer_id, who, firm_id, "change")
        case CapacityWithdrawn(data=data):
            return _own_offer(state, data.offer_id, who, firm_id, "withdraw")
        case FirmUpdated(data=data):
            if data.firm_id != firm_id:
                return NOT_AUTHORISED + f"{who} acts for firm {firm_id!r} and may not update firm {data.firm_id!r}"
            return None
        case PlacementAnswered(data=data):
            if data.firm_id != firm_id:
                return (
                    NOT_AUTHORISED + f"{who} acts for firm {firm_id!r} and may not answer a placement at "
                    f"{data.firm_id!r}"
                )
            return None
        case _:
            return (
                NOT_AUTHORISED + f"{who} may not send {event.type}; a firm offers, changes and withdraws its own "
                "capacity, updates its own details and answers its own placements, the network's coordinators "
                "do the rest"
            )


def _own_offer(state: NetworkState, offer_id: str, who: str, firm_id: str, verb: str) -> str | None:
    # An offer not known (yet) is left to the state, which says so; its owner is only known once offered.
    stored = state.offers.get(offer_id)
    if stored is not None and stored.firm_id != firm_id:
        return NOT_AUTHORISED + f"{who} acts for firm {firm_id!r} and may not {verb} offer {offer_id!r} of another firm"
    return None
