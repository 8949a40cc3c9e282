"""The talent pool: experts, their qualifications and organisations, and the
vocabularies that describe them; applications and consents, enterprises and
their contact requests, the talent search page and the search index.

Every model is imported here, so that Django finds them under the app and
``from talentpool.models import ...`` keeps working.
"""

from talentpool.models.applications import (
    ApplicationKind,
    ApplicationStatus,
    ConsentKind,
    ConsentMethod,
    ExpertApplication,
    ExpertConsent,
)
from talentpool.models.contacts import (
    ContactDisclosure,
    ContactRequest,
    ContactRequestStatus,
)
from talentpool.models.enterprises import (
    Enterprise,
    EnterpriseMember,
    EnterpriseStatus,
)
from talentpool.models.experts import (
    LISTED,
    Expert,
    ExpertQuerySet,
    ExpertStatus,
    Qualification,
    Verification,
    reachable_q,
)
from talentpool.models.index import (
    ExpertSearchChange,
    ExpertSearchDocument,
    ExpertToken,
    ExpertTokenBits,
    SearchSynonym,
)
from talentpool.models.organisations import Organisation, OrganisationKind
from talentpool.models.pages import TalentSearchPage
from talentpool.models.vocabularies import (
    ExpertCategory,
    Industry,
    Language,
    Service,
    TalentTier,
)

__all__ = [
    "LISTED",
    "ApplicationKind",
    "ApplicationStatus",
    "ConsentKind",
    "ConsentMethod",
    "ContactDisclosure",
    "ContactRequest",
    "ContactRequestStatus",
    "Enterprise",
    "EnterpriseMember",
    "EnterpriseStatus",
    "Expert",
    "ExpertApplication",
    "ExpertCategory",
    "ExpertConsent",
    "ExpertQuerySet",
    "ExpertSearchChange",
    "ExpertSearchDocument",
    "ExpertStatus",
    "ExpertToken",
    "ExpertTokenBits",
    "Industry",
    "Language",
    "Organisation",
    "OrganisationKind",
    "Qualification",
    "SearchSynonym",
    "Service",
    "TalentSearchPage",
    "TalentTier",
    "Verification",
    "reachable_q",
]
