"""The shared core's models, one module per subject; Django finds them all through this package.

Import from `buddyscheme.models` (migrations name `buddyscheme.models.validate_time_zone` and
`new_invitation_token`).
"""

from .audit import AuditEvent, AuditEventImmutable, AuditEventQuerySet
from .consent import CONSENT_WORDING_VERSION, ConsentKind, ConsentMethod, ConsentRecord
from .outbox import Channel, Heartbeat, Notification, NotificationStatus
from .people import (
    DEFAULT_SENSITIVE_WORDS,
    ContactMethod,
    Invitation,
    InvitationQuerySet,
    Membership,
    Profile,
    Role,
    Scheme,
    User,
    UserManager,
    new_invitation_token,
    validate_time_zone,
)
from .vetting import (
    BUDDY_PIPELINE,
    BuddyStage,
    BuddyVetting,
    DBSCheck,
    DBSLevel,
    EligibilityQuestion,
    ParticipantEnrolment,
    ReferralSource,
    TrainingCompletion,
    TrainingModule,
    VettingStep,
)

__all__ = [
    "BUDDY_PIPELINE",
    "CONSENT_WORDING_VERSION",
    "DEFAULT_SENSITIVE_WORDS",
    "AuditEvent",
    "AuditEventImmutable",
    "AuditEventQuerySet",
    "BuddyStage",
    "BuddyVetting",
    "Channel",
    "ConsentKind",
    "ConsentMethod",
    "ConsentRecord",
    "ContactMethod",
    "DBSCheck",
    "DBSLevel",
    "EligibilityQuestion",
    "Heartbeat",
    "Invitation",
    "InvitationQuerySet",
    "Membership",
    "Notification",
    "NotificationStatus",
    "ParticipantEnrolment",
    "Profile",
    "ReferralSource",
    "Role",
    "Scheme",
    "TrainingCompletion",
    "TrainingModule",
    "User",
    "UserManager",
    "VettingStep",
    "new_invitation_token",
    "validate_time_zone",
]
