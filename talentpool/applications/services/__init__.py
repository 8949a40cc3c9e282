"""Writes of applying to the talent pool, reviewing, publication consent and
the yearly reconfirmation.

Decisions (issue 5, point 3 and the consent of point 7):

- An application's `data` holds the proposed profile with vocabulary codes
  (see `PROFILE_FIELDS`). Everything is checked before anything is written
  (`profile_data_check`); the same check runs again on approval, since a
  licence number may have been taken meanwhile.
- Consent to publication is asked for on the application form, separately
  and unticked. Ticking it is stored in the application (with the wording
  shown and the time) and becomes an `ExpertConsent` row on approval: the
  expert does not exist before, and nothing is published before approval
  anyway. Without it the approved expert is verified but not listed until
  the expert gives consent on "my expert profile".
- Verified fields (`VERIFIED_FIELDS`: name, categories, organisation,
  qualifications with their licence numbers, talent tier, years of practice)
  change only through a reviewed application of kind "change"; the public
  profile keeps the verified values until a reviewer approves. The other
  fields change at once.
- Every step is in Wagtail's log: on the application, and on the expert as
  soon as there is one (the expert's history is its verification history).
- Reconfirmation (`reconfirmation_sweep`, daily by Celery beat): an expert is
  asked 11 months after the last confirmation (for one never confirmed: after
  verification, or creation if never verified); one not confirmed 12 months
  after that date, and asked at least `LAPSE_NOTICE` before, lapses and is
  hidden until confirming, so nobody lapses without a month's notice even if
  the sweep did not run for a while. Imported experts without an account are
  asked at the expert's own e-mail address (nothing is sent without one);
  staff record their answer with "confirm profile is current" in the admin.

The steps are in modules of this package: base (log actions, the error,
e-mail), profile (the proposed profile and its check), applying, review,
expert_profile (the expert's own edits), consent, reconfirmation and
deletion (what deleting the account does to the applications). Every
name other modules use is imported here, so they import from
``talentpool.applications.services`` as before.
"""

from talentpool.applications.services.applying import (
    application_resubmit,
    application_submit,
    application_withdraw,
)
from talentpool.applications.services.base import (
    LOG_APPROVED,
    LOG_CHANGES_REQUESTED,
    LOG_CONSENT_GIVEN,
    LOG_CONSENT_WITHDRAWN,
    LOG_LAPSED,
    LOG_PROFILE_UPDATED,
    LOG_RECONFIRMATION_REQUESTED,
    LOG_RECONFIRMED,
    LOG_REJECTED,
    LOG_SUBMITTED,
    LOG_WITHDRAWN,
    ApplicationError,
)
from talentpool.applications.services.consent import (
    CONSENT_WORDING,
    consent_give,
    consent_withdraw,
    consent_withdraw_on_account_deletion,
)
from talentpool.applications.services.deletion import (
    applications_erase_on_account_deletion,
    talent_pool_erase_on_account_deletion,
)
from talentpool.applications.services.expert_profile import expert_profile_update
from talentpool.applications.services.profile import (
    MAX_QUALIFICATIONS,
    MULTI_TERMS,
    PROFILE_FIELDS,
    QUALIFICATION_KEYS,
    SINGLE_TERMS,
    TEXT_FIELDS,
    VERIFIED_FIELDS,
    expert_profile_data,
    profile_data_check,
)
from talentpool.applications.services.reconfirmation import (
    ASK_AFTER,
    LAPSE_AFTER,
    LAPSE_NOTICE,
    expert_reconfirm,
    reconfirmation_sweep,
)
from talentpool.applications.services.review import (
    application_approve,
    application_reject,
    application_request_changes,
    open_applications_count,
)

__all__ = [
    "ASK_AFTER",
    "CONSENT_WORDING",
    "LAPSE_AFTER",
    "LAPSE_NOTICE",
    "LOG_APPROVED",
    "LOG_CHANGES_REQUESTED",
    "LOG_CONSENT_GIVEN",
    "LOG_CONSENT_WITHDRAWN",
    "LOG_LAPSED",
    "LOG_PROFILE_UPDATED",
    "LOG_RECONFIRMATION_REQUESTED",
    "LOG_RECONFIRMED",
    "LOG_REJECTED",
    "LOG_SUBMITTED",
    "LOG_WITHDRAWN",
    "MAX_QUALIFICATIONS",
    "MULTI_TERMS",
    "PROFILE_FIELDS",
    "QUALIFICATION_KEYS",
    "SINGLE_TERMS",
    "TEXT_FIELDS",
    "VERIFIED_FIELDS",
    "ApplicationError",
    "application_approve",
    "application_reject",
    "application_request_changes",
    "application_resubmit",
    "application_submit",
    "application_withdraw",
    "applications_erase_on_account_deletion",
    "consent_give",
    "consent_withdraw",
    "consent_withdraw_on_account_deletion",
    "expert_profile_data",
    "expert_profile_update",
    "expert_reconfirm",
    "open_applications_count",
    "profile_data_check",
    "reconfirmation_sweep",
    "talent_pool_erase_on_account_deletion",
]
