"""Verbund's event contracts: the only place an event's shape is defined."""

from .catalog import (
    ALL_TYPES,
    BY_NAME,
    INBOUND_TYPES,
    NOTIFICATION_TYPES,
    OUTBOUND_TYPES,
    AssignmentEvent,
    InboundEvent,
    InvalidEvent,
    NotificationEvent,
    ShortfallEvent,
    decode_event,
    encode_event,
    load_event,
)
from .envelope import SCHEMA_VERSION, Channel, Contact, Envelope, Language
from .inbound import (
    CapacityChanged,
    CapacityChangedData,
    CapacityOffered,
    CapacityOfferedData,
    CapacityWithdrawn,
    CapacityWithdrawnData,
    CurriculumPublished,
    CurriculumPublishedData,
    FirmData,
    FirmLeft,
    FirmLeftData,
    FirmModule,
    FirmRegistered,
    FirmUpdated,
    LearnerData,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    LearnerWithdrawnData,
    Location,
    Module,
    NetworkConfigured,
    NetworkConfiguredData,
    Precedence,
    RequirementGroup,
    WeekSpan,
    Weights,
)
from .notifications import NotificationData, NotificationDelivered, NotificationFailed, NotificationFailedData
from .outbound import (
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentChanged,
    AssignmentChangedData,
    AssignmentData,
    AssignmentMade,
    EventRejected,
    EventRejectedData,
    PlanPublished,
    PlanPublishedData,
    PreviousAssignment,
    SeatSuggestion,
    ShortfallData,
    ShortfallDetected,
    ShortfallReason,
    ShortfallResolved,
    ShortfallResolvedData,
)
from .topics import Topic, load_topics, topic
from .weeks import IsoWeek, week_at, week_index, week_monday, week_of, week_sunday

__all__ = [name for name in dir() if not name.startswith("_")]
