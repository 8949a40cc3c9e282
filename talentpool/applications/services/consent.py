"""Consent to publication: the wording the expert agrees to, giving or
withdrawing it on "my expert profile", and staff recording a consent signed
on paper (the admin's bulk action; an import records it row by row in
talentpool.services)."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.log_actions import log

from portal.models import User
from talentpool.applications.services.base import (
    LOG_CONSENT_GIVEN,
    LOG_CONSENT_WITHDRAWN,
    ApplicationError,
)
from talentpool.imports import MAX_CONSENT_REF, evidence_datetime, evidence_day
from talentpool.models import Expert, ExpertConsent
from talentpool.services import LOG_CONSENT_ON_PAPER

#: The wording the expert agrees to; stored with each consent as shown.
CONSENT_WORDING = gettext_lazy(
    "I agree that my public profile (name, categories, IP types, services, "
    "industries, district, organisation, languages, years of practice, talent "
    "tier, qualifications with licence numbers and biography) is published in "
    "the talent pool and its API. My e-mail and phone are never published. I "
    "can withdraw this consent at any time on my expert profile page, and the "
    "profile is then hidden at once."
)


def _consent_record(
    *, expert: Expert, user: User, given: bool, wording: str, at: datetime
) -> ExpertConsent:
    consent = ExpertConsent.objects.create(
        expert=expert,
        kind=ExpertConsent.Kind.PUBLICATION,
        given=given,
        wording=wording,
        user=user,
        recorded_at=at,
    )
    expert.publication_consent_at = at if given else None
    expert.save(update_fields=["publication_consent_at", "updated_at"])
    log(
        instance=expert,
        action=LOG_CONSENT_GIVEN if given else LOG_CONSENT_WITHDRAWN,
        user=user,
        data={"consent": consent.pk},
    )
    return consent


def consent_give(*, expert: Expert, user: User) -> Expert:
    """The expert agrees to publication, with the wording shown
    (CONSENT_WORDING in the active language). After: a consent row (given),
    publication_consent_at set, logged; the expert is listed if otherwise
    listable. Giving it again while in force changes nothing."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk:
            raise ApplicationError(_("This is not your expert profile."))
        if expert.publication_consent_at is None:
            _consent_record(
                expert=expert,
                user=user,
                given=True,
                wording=str(CONSENT_WORDING),
                at=timezone.now(),
            )
    return expert


def consent_withdraw(*, expert: Expert, user: User) -> Expert:
    """The expert withdraws consent to publication. After: a consent row
    (withdrawn), publication_consent_at cleared, so the profile leaves the
    search, the API and its public page at once; logged. Withdrawing when
    not in force changes nothing."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk:
            raise ApplicationError(_("This is not your expert profile."))
        if expert.publication_consent_at is not None:
            _consent_record(
                expert=expert,
                user=user,
                given=False,
                wording=str(CONSENT_WORDING),
                at=timezone.now(),
            )
    return expert


def consent_withdraw_on_account_deletion(*, user: User) -> Expert | None:
    """The expert's account is being deleted (portal.services.user_delete):
    their publication consent is withdrawn (consent_withdraw: a consent row,
    the profile leaves the search, the API and its public page). The
    deletion then unlinks the profile from the account (Expert.user is
    SET_NULL); the office's record of the expert, its applications and
    consents stay. May run twice: a second call finds no consent in force."""
    expert = Expert.objects.filter(user=user).first()
    if expert is None:
        return None
    return consent_withdraw(expert=expert, user=user)


# --- consent signed on paper ----------------------------------------------------


class PaperConsentRefused(ApplicationError):
    """Paper consents staff asked to record and may not: `problems` says
    why, one message per expert or field; nothing was recorded."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def paper_consent_wording() -> str:
    """The wording a paper consent is recorded with: the portal's, in its
    default language (Simplified Chinese), which the paper form carries."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(CONSENT_WORDING)


def _paper_problems(
    experts: Sequence[Expert], references: Mapping[int, str], on: date
) -> tuple[list[str], set[int]]:
    """What refuses recording these paper consents, and the experts whose
    form is already recorded (left alone). Reads only."""
    problems: list[str] = []
    if on > evidence_day(timezone.now()):
        problems.append(
            _("The date %(date)s is in the future.") % {"date": date_format(on)}
        )
    withdrawn: dict[int, datetime] = {}
    recorded: dict[tuple[int, str], datetime] = {}
    for expert_id, given, method, reference, at in ExpertConsent.objects.filter(
        expert__in=experts, kind=ExpertConsent.Kind.PUBLICATION
    ).values_list("expert_id", "given", "method", "reference", "recorded_at"):
        if not given:
            withdrawn[expert_id] = max(at, withdrawn.get(expert_id, at))
        elif method == ExpertConsent.Method.PAPER:
            recorded[(expert_id, reference)] = at
    already: set[int] = set()
    for expert in experts:
        reference = references.get(expert.pk, "").strip()
        if not reference:
            problems.append(
                _("Give the reference of the consent form of %(name)s.")
                % {"name": expert.name}
            )
            continue
        if len(reference) > MAX_CONSENT_REF:
            problems.append(
                _(
                    "The consent form reference of %(name)s is longer than "
                    "%(max)s characters."
                )
                % {"name": expert.name, "max": MAX_CONSENT_REF}
            )
            continue
        earlier = recorded.get((expert.pk, reference))
        if earlier is not None:
            if evidence_day(earlier) == on:
                already.add(expert.pk)
            else:
                problems.append(
                    _(
                        "The consent form %(reference)s is already recorded "
                        "for %(name)s, signed on %(date)s."
                    )
                    % {
                        "reference": reference,
                        "name": expert.name,
                        "date": date_format(evidence_day(earlier)),
                    }
                )
            continue
        withdrawal = withdrawn.get(expert.pk)
        if withdrawal is not None and evidence_day(withdrawal) >= on:
            problems.append(
                _(
                    "%(name)s withdrew consent to publication online on "
                    "%(withdrawn)s, on or after the paper consent of %(date)s: "
                    "the withdrawal stands. Leave this expert out, or ask for "
                    "a new signed form."
                )
                % {
                    "name": expert.name,
                    "withdrawn": date_format(evidence_day(withdrawal)),
                    "date": date_format(on),
                }
            )
    return problems, already


def paper_consents_check(
    *, experts: Sequence[Expert], references: Mapping[int, str], on: date
) -> list[str]:
    """Every reason not to record these paper consents, in the active
    language; empty when they may be recorded. Reads only."""
    return _paper_problems(experts, references, on)[0]


def paper_consents_record(
    *,
    experts: Sequence[Expert],
    references: Mapping[int, str],
    on: date,
    by: User,
) -> int:
    """Staff record that each expert signed the consent form whose reference
    is `references[expert.pk]` on `on`.

    Before: `by` may change experts; `on` is not in the future; every expert
    has a reference (at most MAX_CONSENT_REF characters); none withdrew
    consent online on or after `on` (the withdrawal stands). Otherwise raises
    PaperConsentRefused with every problem and records nothing. After, in one
    transaction: an ExpertConsent per expert (given, method paper, the
    reference, `by` as who recorded it, the expert's account if any, noon of
    `on` in Asia/Shanghai, the wording in Chinese); publication_consent_at
    set to that time unless a later consent row is in force; the expert's
    history says who recorded which form. A form already recorded for the
    expert on that date is left alone, so it may run twice. Returns how
    many consents were recorded."""
    if not by.has_perm("talentpool.change_expert"):
        raise ApplicationError(_("You may not record consent for experts."))
    at = evidence_datetime(on)
    wording = paper_consent_wording()
    recorded = 0
    with transaction.atomic():
        locked = list(
            Expert.objects.select_for_update()
            .filter(pk__in=[expert.pk for expert in experts])
            .order_by("pk")
        )
        problems, already = _paper_problems(locked, references, on)
        if problems:
            raise PaperConsentRefused(problems)
        for expert in locked:
            if expert.pk in already:
                continue
            reference = references[expert.pk].strip()
            consent = ExpertConsent.objects.create(
                expert=expert,
                kind=ExpertConsent.Kind.PUBLICATION,
                given=True,
                wording=wording,
                user_id=expert.user_id,
                method=ExpertConsent.Method.PAPER,
                reference=reference,
                recorded_by=by,
                recorded_at=at,
            )
            latest = (
                ExpertConsent.objects.filter(
                    expert=expert, kind=ExpertConsent.Kind.PUBLICATION
                )
                .order_by("-recorded_at", "-pk")
                .first()
            )
            if latest is not None and latest.pk == consent.pk:
                expert.publication_consent_at = at
                # save(): the search index learns of it on commit.
                expert.save(update_fields=["publication_consent_at", "updated_at"])
            log(
                instance=expert,
                action=LOG_CONSENT_ON_PAPER,
                user=by,
                data={
                    "consent": consent.pk,
                    "reference": reference,
                    "on": on.isoformat(),
                },
            )
            recorded += 1
    return recorded
