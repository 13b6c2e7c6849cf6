"""A network's state, folded from inbound events; rejects events that contradict what is known."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from verbund_schemas import (
    Answer,
    CapacityChanged,
    CapacityOffered,
    CapacityOfferedData,
    CapacityWithdrawn,
    ContactErased,
    CurriculumPublished,
    CurriculumPublishedData,
    Envelope,
    FirmData,
    FirmLeft,
    FirmRegistered,
    FirmUpdated,
    LearnerData,
    LearnerErased,
    LearnerPreferencesStated,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    NetworkConfigured,
    NetworkConfiguredData,
    PlacementAnswered,
    PlacementAnsweredData,
    week_index,
)


class Rejection(Exception):
    """An event that is well-formed but cannot be applied; `reason` tells the sender what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChangeKind(StrEnum):
    POLICY = "policy"
    CURRICULUM = "curriculum"
    FIRM = "firm"
    FIRM_LEFT = "firm_left"
    OFFER_ADDED = "offer_added"
    OFFER_CHANGED = "offer_changed"
    OFFER_WITHDRAWN = "offer_withdrawn"
    LEARNER_ADDED = "learner_added"
    LEARNER_CHANGED = "learner_changed"
    LEARNER_WITHDRAWN = "learner_withdrawn"


@dataclass(frozen=True)
class Change:
    """What an applied event changed: used to explain moved assignments ("offer o-7 was withdrawn")."""

    kind: ChangeKind
    subject_id: str
    description: str
    # False when the event only restated what the network already held (a firm's system re-sending its offers,
    # an update with nothing new): applied and remembered, but there is nothing to plan again.
    effective: bool = True


@dataclass
class NetworkState:
    """Everything known about one network. Plain data; persistence and transport live elsewhere."""

    network_id: str
    config: NetworkConfiguredData | None = None
    curricula: dict[str, CurriculumPublishedData] = field(default_factory=dict)
    firms: dict[str, FirmData] = field(default_factory=dict)
    departed_firms: set[str] = field(default_factory=set)
    offers: dict[str, CapacityOfferedData] = field(default_factory=dict)
    withdrawn_offers: set[str] = field(default_factory=set)
    learners: dict[str, LearnerData] = field(default_factory=dict)
    withdrawn_learners: set[str] = field(default_factory=set)
    # Placements firms declined, as (firm_id, module_id) per learner: apart from the registration, which a
    # coordinator's LearnerUpdated replaces whole, so a decline outlives it; the planner sees them as exclusions.
    declines: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ applying events

    def apply(self, event: Envelope) -> Change:
        """Apply one inbound event, or raise Rejection without changing anything."""
        if event.subject != self.network_id:
            raise Rejection(
                f"event is for network {event.subject!r} but was routed to {self.network_id!r}; "
                "the Kafka key must equal the event's subject (the network id)"
            )
        match event:
            case NetworkConfigured(data=data):
                self.config = data
                return Change(ChangeKind.POLICY, self.network_id, "the network's policy changed")
            case CurriculumPublished(data=data):
                self._check_curriculum_keeps_learners(data)
                self.curricula[data.curriculum_id] = data
                return Change(ChangeKind.CURRICULUM, data.curriculum_id, f"curriculum {data.name} was published")
            case FirmRegistered(data=data):
                if data.firm_id in self.firms:
                    raise Rejection(
                        f"firm {data.firm_id!r} is already registered; send FirmUpdated to change its details"
                    )
                self.firms[data.firm_id] = data
                self.departed_firms.discard(data.firm_id)
                return Change(ChangeKind.FIRM, data.firm_id, f"{data.name} joined the network")
            case FirmUpdated(data=data):
                unchanged = self._known_firm(data.firm_id, "update") == data
                self.firms[data.firm_id] = data
                return Change(ChangeKind.FIRM, data.firm_id, f"{data.name}'s details changed", not unchanged)
            case FirmLeft(data=data):
                firm = self._known_firm(data.firm_id, "remove")
                del self.firms[data.firm_id]
                self.departed_firms.add(data.firm_id)
                for offer_id in [o.offer_id for o in self.offers.values() if o.firm_id == data.firm_id]:
                    del self.offers[offer_id]
                    self.withdrawn_offers.add(offer_id)
                return Change(ChangeKind.FIRM_LEFT, data.firm_id, f"{firm.name} left the network")
            case CapacityOffered(data=data):
                return self._offer(data)
            case CapacityChanged(data=data):
                old = self._known_offer(data.offer_id, "change")
                merged = old.model_dump()
                merged.update({k: v for k, v in data.model_dump().items() if v is not None})
                try:
                    new = CapacityOfferedData.model_validate(merged)
                except ValueError as exc:
                    raise Rejection(f"offer {data.offer_id!r} after this change would be invalid: {exc}") from exc
                self.offers[data.offer_id] = new
                return Change(
                    ChangeKind.OFFER_CHANGED,
                    data.offer_id,
                    f"{self._firm_name(new.firm_id)} changed its offer for {new.module_id} "
                    f"({new.first_week}–{new.last_week}, {new.max_seats} seats)",
                    effective=new != old,
                )
            case CapacityWithdrawn(data=data):
                old = self._known_offer(data.offer_id, "withdraw")
                del self.offers[data.offer_id]
                self.withdrawn_offers.add(data.offer_id)
                why = f": {data.reason}" if data.reason else ""
                return Change(
                    ChangeKind.OFFER_WITHDRAWN,
                    data.offer_id,
                    f"{self._firm_name(old.firm_id)} withdrew its offer for {old.module_id}{why}",
                )
            case LearnerRegistered(data=data):
                if data.learner_id in self.learners:
                    raise Rejection(
                        f"learner {data.learner_id!r} is already registered; send LearnerUpdated to change them"
                    )
                self._check_learner(data)
                self.learners[data.learner_id] = data
                self.withdrawn_learners.discard(data.learner_id)
                # Ids, not names: these sentences reach other learners' events (docs/data-protection.md).
                return Change(ChangeKind.LEARNER_ADDED, data.learner_id, f"learner {data.learner_id} was registered")
            case LearnerUpdated(data=data):
                if data.learner_id not in self.learners:
                    raise Rejection(self._unknown_learner(data.learner_id, "update"))
                self._check_learner(data)
                unchanged = self.learners[data.learner_id] == data
                self.learners[data.learner_id] = data
                return Change(
                    ChangeKind.LEARNER_CHANGED,
                    data.learner_id,
                    f"learner {data.learner_id}'s registration changed",
                    effective=not unchanged,
                )
            case LearnerWithdrawn(data=data):
                if data.learner_id not in self.learners:
                    raise Rejection(self._unknown_learner(data.learner_id, "withdraw"))
                del self.learners[data.learner_id]
                self.withdrawn_learners.add(data.learner_id)
                self.declines.pop(data.learner_id, None)
                return Change(ChangeKind.LEARNER_WITHDRAWN, data.learner_id, f"learner {data.learner_id} was withdrawn")
            case LearnerErased(data=data):
                # Applies whether or not the learner is still registered: erasing twice, or after a
                # withdrawal, must succeed, and the key is destroyed by the caller in the same transaction.
                self.learners.pop(data.learner_id, None)
                self.withdrawn_learners.add(data.learner_id)
                self.declines.pop(data.learner_id, None)
                return Change(ChangeKind.LEARNER_WITHDRAWN, data.learner_id, f"learner {data.learner_id} was withdrawn")
            case ContactErased(data=data):
                return self._erase_contact(data.firm_id)
            case PlacementAnswered(data=data):
                return self._answer(data)
            case LearnerPreferencesStated(data=data):
                learner = self.learners.get(data.learner_id)
                if learner is None:
                    raise Rejection(self._unknown_learner(data.learner_id, "state preferences of"))
                stated = learner.model_copy(
                    update={"module_preferences": data.module_preferences, "firm_preferences": data.firm_preferences}
                )
                self._check_learner(stated)
                self.learners[data.learner_id] = stated
                return Change(
                    ChangeKind.LEARNER_CHANGED,
                    data.learner_id,
                    f"learner {data.learner_id} stated their preferences",
                    effective=stated != learner,
                )
        raise Rejection(f"{event.type} is not an inbound event; the matcher does not apply it")

    def _answer(self, data: PlacementAnsweredData) -> Change:
        learner = self.learners.get(data.learner_id)
        if learner is None:
            raise Rejection(self._unknown_learner(data.learner_id, "answer a placement of"))
        self._known_firm(data.firm_id, "answer a placement at")
        where = f"{data.module_id} at {self._firm_name(data.firm_id)}"
        declined = self.declines.get(data.learner_id, frozenset())
        placement = (data.firm_id, data.module_id)
        if data.answer is Answer.ACCEPTED:
            if placement in declined:
                # Accepting what was declined takes the decline back; the learner may be planned there again.
                self._set_declines(data.learner_id, declined - {placement})
                return Change(
                    ChangeKind.LEARNER_CHANGED,
                    data.learner_id,
                    f"learner {data.learner_id}'s declined placement {where} was accepted after all",
                )
            # Changes nothing the planner sees; the caller records it and does not replan for it.
            return Change(
                ChangeKind.LEARNER_CHANGED,
                data.learner_id,
                f"learner {data.learner_id}'s placement {where} was accepted",
            )
        # Every later plan keeps the decline, and the planner explains it like any other exclusion.
        self._set_declines(data.learner_id, declined | {placement})
        return Change(
            ChangeKind.LEARNER_CHANGED, data.learner_id, f"learner {data.learner_id}'s placement {where} was declined"
        )

    def is_declined(self, learner_id: str, firm_id: str, module_id: str) -> bool:
        return (firm_id, module_id) in self.declines.get(learner_id, frozenset())

    def _set_declines(self, learner_id: str, declined: frozenset[tuple[str, str]]) -> None:
        if declined:
            self.declines[learner_id] = declined
        else:
            self.declines.pop(learner_id, None)

    # ------------------------------------------------------------------ checks

    def _offer(self, data: CapacityOfferedData) -> Change:
        if data.offer_id in self.offers:
            if self.offers[data.offer_id] == data:
                # The same offer stated again (a firm's system re-sending all it offers): nothing changes.
                return Change(
                    ChangeKind.OFFER_CHANGED,
                    data.offer_id,
                    f"{self._firm_name(data.firm_id)} restated its offer for {data.module_id}",
                    effective=False,
                )
            raise Rejection(
                f"offer {data.offer_id!r} already exists with other details; send CapacityChanged to change it"
            )
        if data.offer_id in self.withdrawn_offers:
            raise Rejection(f"offer {data.offer_id!r} was withdrawn; offer the capacity again under a new offer_id")
        self._known_firm(data.firm_id, "offer capacity for")
        if not any(data.module_id in {m.module_id for m in c.modules} for c in self.curricula.values()):
            raise Rejection(
                f"module {data.module_id!r} is in no published curriculum of network {self.network_id!r}; "
                "publish the curriculum first (CurriculumPublished) or correct the module id"
                + self._known_modules_hint()
            )
        self.offers[data.offer_id] = data
        return Change(
            ChangeKind.OFFER_ADDED,
            data.offer_id,
            f"{self._firm_name(data.firm_id)} offered {data.max_seats} seats for {data.module_id} "
            f"({data.first_week}–{data.last_week})",
        )

    def _check_learner(self, data: LearnerData) -> None:
        curriculum = self.curricula.get(data.curriculum_id)
        if curriculum is None:
            known = ", ".join(sorted(self.curricula)) or "none yet"
            raise Rejection(
                f"learner {data.learner_id!r} names unknown curriculum {data.curriculum_id!r} "
                f"(known: {known}); publish it first with CurriculumPublished"
            )
        modules = {m.module_id for m in curriculum.modules}
        groups = {g.group_id for g in curriculum.groups}
        problems = [f"required_counts names unknown group {g!r}" for g in data.required_counts if g not in groups]
        for g in curriculum.groups:
            count = data.required_counts.get(g.group_id, g.required)
            if count > len(g.module_ids):
                problems.append(f"group {g.group_id!r} has {len(g.module_ids)} modules but {count} are required")
        problems += [
            f"allowed_modules names unknown module {m!r}" for m in data.allowed_modules or [] if m not in modules
        ]
        problems += [
            f"module_preferences names unknown module {m!r}" for m in data.module_preferences if m not in modules
        ]
        problems += [
            f"excluded_firm_modules names unknown module {fm.module_id!r}"
            for fm in data.excluded_firm_modules
            if fm.module_id not in modules
        ]
        if data.home_firm_id is not None and data.home_firm_id not in self.firms:
            problems.append(f"home_firm_id {data.home_firm_id!r} is not a registered firm")
        if problems:
            raise Rejection(
                f"learner {data.learner_id!r} does not fit curriculum {data.curriculum_id!r}: " + "; ".join(problems)
            )

    def _check_curriculum_keeps_learners(self, data: CurriculumPublishedData) -> None:
        """A replaced curriculum must still hold the groups and modules its learners refer to."""
        if data.curriculum_id not in self.curricula:
            return
        groups = {g.group_id for g in data.groups}
        modules = {m.module_id for m in data.modules}
        for learner in self.learners.values():
            if learner.curriculum_id != data.curriculum_id:
                continue
            lost = [g for g in learner.required_counts if g not in groups]
            lost += [m for m in learner.allowed_modules or [] if m not in modules]
            if lost:
                raise Rejection(
                    f"the new version of curriculum {data.curriculum_id!r} drops {', '.join(lost)}, which "
                    f"learner {learner.learner_id!r} refers to; update that learner first (LearnerUpdated)"
                )
            # A registration accepted against the old groups must still be satisfiable by the new ones.
            for g in data.groups:
                count = learner.required_counts.get(g.group_id, g.required)
                if count > len(g.module_ids):
                    raise Rejection(
                        f"the new version of curriculum {data.curriculum_id!r} leaves group {g.group_id!r} "
                        f"{len(g.module_ids)} modules, but learner {learner.learner_id!r} must do {count} of "
                        "them; update that learner first (LearnerUpdated)"
                    )

    def _erase_contact(self, firm_id: str | None) -> Change:
        # Only the contact goes: the firm keeps its offers and placements, the network its policy. Erasing a
        # departed firm's contact, or twice, succeeds too; the caller destroys the key in the same transaction.
        if firm_id is None:
            if self.config is not None:
                self.config = self.config.model_copy(update={"coordinators": []})
            return Change(ChangeKind.POLICY, self.network_id, "the network's coordinators were erased")
        firm = self.firms.get(firm_id)
        if firm is not None:
            self.firms[firm_id] = firm.model_copy(update={"training_contact": None})
        return Change(ChangeKind.FIRM, firm_id, f"firm {firm_id}'s training contact was erased")

    def _known_firm(self, firm_id: str, verb: str) -> FirmData:
        firm = self.firms.get(firm_id)
        if firm is not None:
            return firm
        if firm_id in self.departed_firms:
            raise Rejection(f"cannot {verb} firm {firm_id!r}: it left the network; register it again first")
        known = ", ".join(sorted(self.firms)) or "none yet"
        raise Rejection(
            f"cannot {verb} unknown firm {firm_id!r} (known: {known}); register it first with FirmRegistered"
        )

    def _known_offer(self, offer_id: str, verb: str) -> CapacityOfferedData:
        offer = self.offers.get(offer_id)
        if offer is not None:
            return offer
        if offer_id in self.withdrawn_offers:
            raise Rejection(
                f"cannot {verb} offer {offer_id!r}: it was withdrawn (or its firm left); "
                "offer the capacity again under a new offer_id"
            )
        raise Rejection(f"cannot {verb} unknown offer {offer_id!r}; send CapacityOffered first")

    def _unknown_learner(self, learner_id: str, verb: str) -> str:
        if learner_id in self.withdrawn_learners:
            return f"cannot {verb} learner {learner_id!r}: they were withdrawn; register them again first"
        return f"cannot {verb} unknown learner {learner_id!r}; send LearnerRegistered first"

    def _firm_name(self, firm_id: str) -> str:
        firm = self.firms.get(firm_id)
        return firm.name if firm else firm_id

    def _known_modules_hint(self) -> str:
        modules = sorted({m.module_id for c in self.curricula.values() for m in c.modules})
        if not modules:
            return ""
        shown = ", ".join(modules[:12]) + (" …" if len(modules) > 12 else "")
        return f" (known modules: {shown})"

    # ------------------------------------------------------------------ queries

    def weeks_span(self) -> tuple[str, str] | None:
        """First and last ISO week any learner window or offer touches."""
        weeks = [w for ln in self.learners.values() for w in (ln.first_week, ln.last_week)]
        weeks += [w for o in self.offers.values() for w in (o.first_week, o.last_week)]
        if not weeks:
            return None
        first = min(weeks, key=lambda w: week_index(w, "2000-W01"))
        last = max(weeks, key=lambda w: week_index(w, "2000-W01"))
        return first, last
