"""The background work that waits or failed, for the admin's "Background
work" page (portal.admin_background_work), and its retry.

Each kind of work (the outbox's e-mails, spreadsheet imports, and what the
apps register: certificate PDFs, bulk certificate runs, announcements) is a
`WorkKind`: who may see and retry it, a selector that reads its counts and
latest rows in a fixed number of queries, and a retry service. `portal`
imports no app, so an app hands its kinds over through the Wagtail hook
REGISTER_HOOK (in its wagtail_hooks.py), as Wagtail's own admin pieces are.

A row is in one of three states: pending (waiting, and not for long: its
task is on its way), stuck (waiting for longer than its task should take:
the message may be lost) or failed (the task gave up). A kind's retry takes
stuck and failed rows only, claims them in one transaction and enqueues
their tasks on commit; the tasks themselves skip work already done, so a
retry clicked twice, or a retry racing the beat's sweep, does the work once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from wagtail import hooks
from wagtail.log_actions import LogFormatter, log

from portal.models import ImportJob, OutgoingEmail

#: The Wagtail hook through which the apps hand over their kinds of work: each
#: function registered under it returns one WorkKind.
REGISTER_HOOK = "register_background_work"
#: Wagtail log action of every retry (Reports › Site history).
LOG_RETRIED = "portal.background_work.retry"
#: Rows listed per kind; the counts cover them all.
ROWS_SHOWN = 20
#: Rows one click retries at most (as the beat's sweeps take at most a few
#: hundred at a time): the message says how many, a second click takes more.
RETRY_LIMIT = 500

PENDING = "pending"
STUCK = "stuck"
FAILED = "failed"
# With a context: the outbox's own "Failed" reads "发送失败" (send failed).
STATE_LABELS = {
    PENDING: pgettext_lazy("background work state", "Waiting"),
    STUCK: pgettext_lazy("background work state", "Stuck"),
    FAILED: pgettext_lazy("background work state", "Failed"),
}


@dataclass(frozen=True, kw_only=True)
class WorkRow:
    """One row of work as the page lists it. `refused` says why it cannot be
    retried here ("" when it can, or when it is only waiting)."""

    pk: int
    state: str
    what: str
    detail: str = ""
    since: datetime | None = None
    attempts: int | None = None
    error: str = ""
    refused: str = ""
    url: str = ""

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def retryable(self) -> bool:
        return self.state in (STUCK, FAILED) and not self.refused


@dataclass(frozen=True, kw_only=True)
class WorkSummary:
    """A kind's counts (all its rows) and its latest ROWS_SHOWN rows."""

    pending: int
    stuck: int
    failed: int
    rows: list[WorkRow]
    #: How many rows "retry all" would take (stuck and failed, less refused).
    retryable: int

    @property
    def total(self) -> int:
        return self.pending + self.stuck + self.failed


@dataclass(frozen=True, kw_only=True)
class WorkKind:
    """One kind of background work.

    `may_retry(user)` answers who sees the kind and may retry it (a Django
    permission, so that a staff session that has not proved MFA gets no);
    `summary(user)` reads the counts and rows; `retry(ids=..., user=...)`
    re-queues the stuck and failed rows among `ids` (None: all of them, up to
    RETRY_LIMIT) inside the caller's transaction, enqueuing on commit, and
    returns how many; `retried(count)` is the message that says so."""

    name: str
    label: Any
    help_text: Any
    may_retry: Callable[[Any], bool]
    summary: Callable[[Any], WorkSummary]
    retry: Callable[..., int]
    retried: Callable[[int], str]
    #: The page lists the kinds in this order.
    order: int = 100


def work_kinds() -> list[WorkKind]:
    """Every kind handed over through REGISTER_HOOK, in their order."""
    kinds = [hook() for hook in hooks.get_hooks(REGISTER_HOOK)]
    return sorted(kinds, key=lambda kind: (kind.order, kind.name))


def work_kinds_for(user: Any) -> list[WorkKind]:
    """The kinds `user` may see and retry; none for a user without staff
    powers (or whose session has not proved MFA: has_perm says no)."""
    return [kind for kind in work_kinds() if kind.may_retry(user)]


def work_kind(name: str) -> WorkKind:
    """The kind of that name; KeyError for none."""
    for kind in work_kinds():
        if kind.name == name:
            return kind
    raise KeyError(name)


def background_work_retry(
    *, kind: WorkKind, ids: list[int] | None, user: Any, logged_on: Model
) -> int:
    """Re-queue a kind's stuck and failed rows (`ids`, or all: None) for
    `user`; returns how many.

    Refused (PermissionDenied, nothing written) when the user may not retry
    that kind. Rows no longer stuck or failed (done, or retried by a first
    click) are left alone, so a second run re-queues nothing; the claim and
    the log entry (LOG_RETRIED on `logged_on`, the request's site) are one
    transaction, and the tasks are enqueued when it commits."""
    if not kind.may_retry(user):
        raise PermissionDenied
    with transaction.atomic():
        count = kind.retry(ids=ids, user=user)
        if count:
            log(
                instance=logged_on,
                action=LOG_RETRIED,
                user=user,
                data={"kind": kind.name, "count": count, "ids": ids or []},
            )
    return count


class RetriedFormatter(LogFormatter):
    """How Site history shows a retry: which kind, how many rows."""

    label = gettext_lazy("Retry background work")

    def format_message(self, log_entry) -> str:
        data = log_entry.data or {}
        try:
            label = str(work_kind(data.get("kind", "")).label)
        except KeyError:
            label = data.get("kind", "")
        return _("Re-queued %(count)s rows of %(kind)s.") % {
            "count": data.get("count", 0),
            "kind": label,
        }


# --- e-mails (the outbox) -------------------------------------------------------


def _email_cutoff() -> datetime:
    """Older than this, a pending e-mail is stuck: the beat's sweep
    (portal.services.email_sweep) would re-enqueue it too."""
    return timezone.now() - settings.PORTAL_EMAIL_SWEEP_AFTER


def _email_retryable(cutoff: datetime) -> Q:
    """Failed with its content still there, or pending past the cutoff."""
    return Q(status=OutgoingEmail.Status.FAILED, body_removed_at__isnull=True) | Q(
        status=OutgoingEmail.Status.PENDING, created_at__lt=cutoff
    )


#: What a row of the page shows: never the body, which may carry a secret.
_EMAIL_ROW_FIELDS = (
    "pk",
    "status",
    "subject",
    "to",
    "created_at",
    "attempts",
    "last_error",
    "body_removed_at",
)


def emails_waiting_summary(user: Any = None) -> WorkSummary:
    """The outbox's pending, stuck and failed e-mails: counts in one query,
    the latest ROWS_SHOWN in another."""
    cutoff = _email_cutoff()
    pending = Q(status=OutgoingEmail.Status.PENDING)
    failed = Q(status=OutgoingEmail.Status.FAILED)
    counts = OutgoingEmail.objects.filter(pending | failed).aggregate(
        pending=Count("pk", filter=pending & Q(created_at__gte=cutoff)),
        stuck=Count("pk", filter=pending & Q(created_at__lt=cutoff)),
        failed=Count("pk", filter=failed),
        retryable=Count("pk", filter=_email_retryable(cutoff)),
    )
    emails = (
        OutgoingEmail.objects.filter(pending | failed)
        .only(*_EMAIL_ROW_FIELDS)
        .order_by("-created_at", "-pk")[:ROWS_SHOWN]
    )
    rows = [_email_row(email, cutoff) for email in emails]
    return WorkSummary(rows=rows, **counts)


def _email_row(email: OutgoingEmail, cutoff: datetime) -> WorkRow:
    if email.status == OutgoingEmail.Status.FAILED:
        state = FAILED
    else:
        state = STUCK if email.created_at < cutoff else PENDING
    refused = ""
    if state == FAILED and email.body_removed_at is not None:
        refused = _(
            "Its content was removed after an earlier delivery: there is "
            "nothing left to send. Ask whoever sent it to send it again."
        )
    return WorkRow(
        pk=email.pk,
        state=state,
        what=email.subject,
        detail=", ".join(email.to),
        since=email.created_at,
        attempts=email.attempts,
        error=email.last_error,
        refused=refused,
        url=reverse("outgoing_email:inspect", args=[email.pk]),
    )


def emails_retry(*, ids: list[int] | None = None, user: Any = None) -> int:
    """Re-queue failed and stuck outbox e-mails (`ids`, or all: None); returns
    how many were enqueued.

    Before: failed e-mails whose content is still there, pending ones older
    than PORTAL_EMAIL_SWEEP_AFTER. After, in one transaction: each failed one
    pending again with its attempts at 0 and its error cleared; a delivery
    task (portal.tasks.deliver_email) enqueued on commit for each. A failed
    e-mail whose content was removed after delivery is never taken: there is
    nothing to send. May run twice: a second run finds them no longer failed,
    and delivery skips an e-mail no longer pending or held by another worker,
    so a message is delivered once. Rows a worker holds locked are skipped."""
    from portal.tasks import deliver_email

    with transaction.atomic():
        rows = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
            _email_retryable(_email_cutoff())
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        picked = list(rows.order_by("pk").values_list("pk", "status")[:RETRY_LIMIT])
        failed = [pk for pk, status in picked if status == OutgoingEmail.Status.FAILED]
        if failed:
            OutgoingEmail.objects.filter(pk__in=failed).update(
                status=OutgoingEmail.Status.PENDING, attempts=0, last_error=""
            )
        for pk, _status in picked:
            # The outbox's public delivery task, one per e-mail: it skips an
            # e-mail no longer pending, so one enqueued twice goes once.
            deliver_email.delay_on_commit(pk)
    return len(picked)


def emails_may_retry(user: Any) -> bool:
    """The outbox's "change" permission: its edit form sets a failed e-mail
    back to pending, which is what a retry does."""
    return bool(user.has_perm("portal.change_outgoingemail"))


def email_work() -> WorkKind:
    return WorkKind(
        name="email",
        label=gettext_lazy("E-mails"),
        help_text=gettext_lazy(
            "E-mails in the outbox that were not delivered. Stuck: waiting for "
            "longer than a delivery takes (the beat re-queues these every few "
            "minutes too). Failed: the mail server refused them every time. "
            "Retrying sets a failed e-mail back to waiting with its attempts at "
            "zero and delivers it again."
        ),
        may_retry=emails_may_retry,
        summary=emails_waiting_summary,
        retry=emails_retry,
        retried=lambda count: (
            ngettext(
                "Re-queued %(count)s e-mail.", "Re-queued %(count)s e-mails.", count
            )
            % {"count": count}
        ),
        order=10,
    )


# --- spreadsheet imports ------------------------------------------------------------

#: A queued import whose check has not started after this lost its message.
IMPORT_STUCK_AFTER = timedelta(minutes=2)
#: Failed imports are listed for this long: they are not retried here (the
#: uploader uploads the file again), only shown.
IMPORT_FAILED_SHOWN = timedelta(days=7)


def _import_kinds_for(user: Any) -> list[str]:
    """The kinds of import job `user` may import (and so see)."""
    from portal.import_jobs import import_kind

    kinds = []
    for value in ImportJob.Kind.values:
        try:
            allowed = import_kind(value).may_import(user, None)
        except KeyError:  # the app that imports it is not installed
            continue
        if allowed:
            kinds.append(value)
    return kinds


def imports_may_retry(user: Any) -> bool:
    """Whoever may import some kind (and so opens its jobs' pages)."""
    return bool(_import_kinds_for(user))


def imports_waiting_summary(user: Any) -> WorkSummary:
    """Running, stuck and recently failed import jobs of the kinds `user`
    may import: counts in one query, the latest ROWS_SHOWN in another."""
    now = timezone.now()
    cutoff = now - IMPORT_STUCK_AFTER
    running = Q(status__in=ImportJob.RUNNING)
    failed = Q(
        status=ImportJob.Status.FAILED, updated_at__gte=now - IMPORT_FAILED_SHOWN
    )
    jobs = ImportJob.objects.filter(kind__in=_import_kinds_for(user)).filter(
        running | failed
    )
    counts = jobs.aggregate(
        pending=Count("pk", filter=running & Q(updated_at__gte=cutoff)),
        stuck=Count("pk", filter=running & Q(updated_at__lt=cutoff)),
        failed=Count("pk", filter=failed),
        retryable=Count(
            "pk", filter=Q(status=ImportJob.Status.QUEUED, updated_at__lt=cutoff)
        ),
    )
    rows = [
        _import_row(job, cutoff)
        for job in jobs.only(
            "pk", "kind", "status", "filename", "message", "updated_at", "created_at"
        ).order_by("-updated_at", "-pk")[:ROWS_SHOWN]
    ]
    return WorkSummary(rows=rows, **counts)


def _import_row(job: ImportJob, cutoff: datetime) -> WorkRow:
    from portal.import_jobs import STALE_AFTER

    refused = ""
    if job.status == ImportJob.Status.FAILED:
        state = FAILED
        refused = _(
            "A failed import is not run again: its file may be gone and the "
            "data may have changed since. The uploader uploads the file again; "
            "the job's page says what went wrong."
        )
    elif job.updated_at < cutoff:
        state = STUCK
        if job.status != ImportJob.Status.QUEUED:
            refused = _(
                "A worker may still be working on it. Once it has shown no "
                "progress for %(minutes)s minutes, opening its page marks it "
                "failed; then upload the file again."
            ) % {"minutes": int(STALE_AFTER.total_seconds() // 60)}
    else:
        state = PENDING
    return WorkRow(
        pk=job.pk,
        state=state,
        what=job.filename,
        detail=f"{job.get_kind_display()} · {job.get_status_display()}",
        since=job.updated_at,
        error=job.message,
        refused=refused,
        url=reverse("portal_import_job", args=[job.pk]),
    )


def imports_retry(*, ids: list[int] | None = None, user: Any) -> int:
    """Re-queue the check of queued import jobs whose check never started
    (`ids`, or all: None) of the kinds `user` may import; returns how many.

    Before: queued jobs untouched for IMPORT_STUCK_AFTER. After: their
    updated_at is now (so they are no longer stuck, and a second click finds
    none) and portal.tasks.import_job_check is enqueued on commit for each.
    Jobs being checked or written are not taken (a worker may hold them; a
    stale one is marked failed by import_job_expire_stale), nor failed ones
    (the upload goes again through its page). May run twice: the check runs
    only for a queued or checking job and only reads the file."""
    from portal.tasks import import_job_check

    cutoff = timezone.now() - IMPORT_STUCK_AFTER
    with transaction.atomic():
        rows = ImportJob.objects.select_for_update(skip_locked=True).filter(
            kind__in=_import_kinds_for(user),
            status=ImportJob.Status.QUEUED,
            updated_at__lt=cutoff,
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        picked = list(rows.order_by("pk").values_list("pk", flat=True)[:RETRY_LIMIT])
        ImportJob.objects.filter(pk__in=picked).update(updated_at=timezone.now())
        for pk in picked:
            import_job_check.delay_on_commit(pk)
    return len(picked)


def import_work() -> WorkKind:
    return WorkKind(
        name="imports",
        label=gettext_lazy("Spreadsheet imports"),
        help_text=gettext_lazy(
            "Imports of trainees and experts that wait for a worker, or failed "
            "in the last seven days. Only a job still queued (its check never "
            "started) can be re-queued; a failed import is uploaded again from "
            "its page."
        ),
        may_retry=imports_may_retry,
        summary=imports_waiting_summary,
        retry=imports_retry,
        retried=lambda count: (
            ngettext(
                "Re-queued the check of %(count)s import.",
                "Re-queued the check of %(count)s imports.",
                count,
            )
            % {"count": count}
        ),
        order=40,
    )
