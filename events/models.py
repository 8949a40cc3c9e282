"""Events (讲座, 培训班, 宣传活动…), campaigns such as the 4·26 publicity week,
and registrations with their check-in.

An event is a Wagtail page; a registration is a record that outlives it
(docs/decisions.md, convention 3): it keeps the event's title and times
copied in, and its link to the page is cleared, never cascaded, if the page
is deleted.
"""

from decimal import Decimal
from typing import Any

from modelcluster.fields import ParentalManyToManyField

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from portal.blocks import BodyBlock
from portal.models.pages import ChineseSearchMixin
from portal.search import cjk_index_text

#: The earliest check-in may open: a day (in minutes) before the start.
CHECKIN_OPENS_BEFORE_MAX = 24 * 60


class EventType(models.TextChoices):
    PUBLICITY = "publicity", _("Publicity event")
    LECTURE = "lecture", _("Lecture")
    TRAINING = "training", _("Training class")
    COMPETITION = "competition", _("Competition")
    EXHIBITION = "exhibition", _("Exhibition")
    LIVESTREAM = "livestream", _("Online live stream")


class EventIndexPage(RoutablePageMixin, ChineseSearchMixin, Page):
    """Lists the events below it (list and calendar views, filters, iCal)."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_summary_field = "intro"
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["events.EventPage"]

    class Meta:
        verbose_name = _("event index")

    # The views live in events.pages; these routes only name them.
    @path("", name="list")
    def list_view(self, request: HttpRequest) -> HttpResponse:
        """Upcoming (or past) events, filtered by month, type and audience."""
        from events import pages

        return pages.index_list(self, request)

    @path("calendar/", name="calendar")
    def calendar_view(self, request: HttpRequest) -> HttpResponse:
        """A month's calendar grid (?month=YYYY-MM, this month by default)."""
        from events import pages

        return pages.index_calendar(self, request)

    # Wagtail serves only paths of words and slashes, hence no "feed.ics".
    @path("ical/", name="feed")
    def feed_view(self, request: HttpRequest) -> HttpResponse:
        """The upcoming events as an iCal feed to subscribe to."""
        from events import pages

        return pages.index_feed(self, request)


class CampaignPage(ChineseSearchMixin, Page):
    """A campaign (4·26 知识产权宣传周 and others) with a date window. While
    the window is open the home page features it alone; before it starts,
    the home page counts down to it."""

    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    summary = models.TextField(_("summary"), blank=True, max_length=400)
    banner = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("banner image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    countdown_days = models.PositiveSmallIntegerField(
        _("countdown (days before)"),
        default=14,
        help_text=_("How many days before the start the home page counts down."),
    )
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel(
            [FieldPanel("starts_at"), FieldPanel("ends_at")], heading=_("Window")
        ),
        FieldPanel("countdown_days"),
        FieldPanel("summary"),
        FieldPanel("banner"),
        FieldPanel("body"),
    ]
    search_summary_field = "summary"
    parent_page_types = ["portal.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="events_campaign_window_in_order",
            )
        ]

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError(
                {"ends_at": _("The campaign must end after it starts.")}
            )

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        """The campaign page: its window, events (in the order they start) and
        news (events.campaigns.campaign_news: the news dated inside the
        window)."""
        from events import campaigns

        context = super().get_context(request, *args, **kwargs)
        site_root = self.get_parent()
        context["campaign_events"] = list(campaigns.campaign_events(campaign=self))
        context["campaign_news"] = list(
            campaigns.campaign_news(campaign=self, site_root=site_root)[
                : campaigns.FEATURED_NEWS * 2
            ]
        )
        return context


class EventPage(RoutablePageMixin, ChineseSearchMixin, Page):
    """An event: when and where, who it is for, registration and capacity,
    and the training hours that attendance earns."""

    event_type = models.CharField(
        # "type" is also a quiz question's (题型): a context of its own.
        pgettext_lazy("event", "type"),
        max_length=20,
        choices=EventType.choices,
        default=EventType.LECTURE,
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # Attendance counts only from shortly before the start to the end (see
    # events.checkin.selectors.checkin_window).
    checkin_opens_before = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before the start)"),
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(CHECKIN_OPENS_BEFORE_MAX)],
        help_text=_(
            "Codes are accepted from this many minutes before the start until "
            "the end of the event (at most 1440, one day)."
        ),
    )
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    organiser = models.CharField(_("organiser"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True, max_length=400)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    audiences = ParentalManyToManyField(
        "portal.Audience", verbose_name=_("audiences"), blank=True
    )
    campaign = models.ForeignKey(
        CampaignPage,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    registration_required = models.BooleanField(
        _("registration required"), default=True
    )
    registration_opens_at = models.DateTimeField(
        _("registration opens"), null=True, blank=True
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes"),
        null=True,
        blank=True,
        help_text=_("Empty: registration closes when the event starts."),
    )
    capacity = models.PositiveIntegerField(
        _("places"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: no limit."),
    )
    waiting_list = models.BooleanField(
        _("waiting list"),
        default=True,
        help_text=_("When the event is full, further registrations wait for a place."),
    )
    training_hours = models.DecimalField(
        _("training hours"),
        max_digits=5,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Hours credited to each attendee when checked in."),
    )
    issues_certificate = models.BooleanField(
        _("certificate for attendance"),
        default=False,
        help_text=_("Attendance creates a certificate request for the bulk run."),
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("linked course"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)
    # Keeping attendees informed (events.registration.services): not edited in
    # the page's form, kept across revisions (with_content_json below).
    # The .ics SEQUENCE, raised with each published change of time or place
    # and by the cancellation; what that time and place were (a digest).
    ical_sequence = models.PositiveIntegerField(
        _("calendar sequence"), default=0, editable=False
    )
    ical_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    cancelled_at = models.DateTimeField(
        _("cancelled"), null=True, blank=True, editable=False
    )
    cancellation_reason = models.TextField(
        _("why the event was cancelled"), blank=True, editable=False
    )

    content_panels = Page.content_panels + [
        FieldPanel("event_type"),
        FieldRowPanel(
            [
                FieldPanel("starts_at"),
                FieldPanel("ends_at"),
                FieldPanel("checkin_opens_before"),
            ],
            heading=_("When"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("venue"),
                FieldPanel("address"),
                FieldPanel("online_url"),
                FieldPanel("organiser"),
            ],
            heading=_("Where and who"),
        ),
        FieldPanel("summary"),
        FieldPanel("image"),
        FieldPanel("audiences"),
        FieldPanel("campaign"),
        MultiFieldPanel(
            [
                FieldPanel("registration_required"),
                FieldRowPanel(
                    [
                        FieldPanel("registration_opens_at"),
                        FieldPanel("registration_closes_at"),
                    ]
                ),
                FieldRowPanel([FieldPanel("capacity"), FieldPanel("waiting_list")]),
            ],
            heading=_("Registration"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("training_hours"),
                FieldPanel("issues_certificate"),
                FieldPanel("course"),
            ],
            heading=_("Training record"),
        ),
        FieldPanel("body"),
    ]
    search_fields = ChineseSearchMixin.search_fields + [
        index.FilterField("starts_at"),
        index.FilterField("event_type"),
    ]
    search_summary_field = "summary"
    parent_page_types = ["events.EventIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")),
                name="events_event_times_in_order",
            ),
            models.CheckConstraint(
                condition=Q(checkin_opens_before__gte=0)
                & Q(checkin_opens_before__lte=CHECKIN_OPENS_BEFORE_MAX),
                name="events_checkin_opens_within_a_day",
            ),
            models.CheckConstraint(
                condition=Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__isnull=True)
                | Q(registration_closes_at__gt=F("registration_opens_at")),
                name="events_registration_window_in_order",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True) | ~Q(cancellation_reason=""),
                name="events_cancelled_with_reason",
            ),
        ]

    #: Columns that belong to the event, not to a revision: publishing an
    #: older revision must not lower the sequence or undo a cancellation.
    KEPT_ACROSS_REVISIONS = (
        "ical_sequence",
        "ical_fingerprint",
        "cancelled_at",
        "cancellation_reason",
    )

    def with_content_json(self, content: dict[str, Any]) -> "EventPage":
        obj = super().with_content_json(content)
        # From the row, not `self`: a revision's page may be the instance it
        # was saved from, cached since (one query).
        current = (
            type(self)
            .objects.filter(pk=self.pk)
            .values(*self.KEPT_ACROSS_REVISIONS)
            .first()
            if self.pk
            else None
        )
        for name in self.KEPT_ACROSS_REVISIONS:
            setattr(obj, name, current[name] if current else getattr(self, name))
        return obj

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            errors["ends_at"] = _("The event cannot end before it starts.")
        if (
            self.registration_opens_at
            and self.registration_closes_at
            and self.registration_closes_at <= self.registration_opens_at
        ):
            errors["registration_closes_at"] = _(
                "Registration must close after it opens."
            )
        if errors:
            raise ValidationError(errors)

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from events import pages

        context = super().get_context(request, *args, **kwargs)
        context.update(pages.event_context(self, request))
        return context

    # Routable for its .ics; the page itself is the "" route (and previews).
    @path("", name="page")
    def page_view(self, request: HttpRequest) -> HttpResponse:
        return self.render(request)

    @path("ical/", name="ics")
    def ics_view(self, request: HttpRequest) -> HttpResponse:
        """The event as an .ics file to add to a calendar."""
        from events import pages

        return pages.event_ics(self, request)

    def search_text(self) -> str:
        """The site search also finds an event by its place and organiser."""
        return cjk_index_text(
            super().search_text(), self.venue, self.address, self.organiser
        )

    @property
    def is_past(self) -> bool:
        """Whether the event has ended."""
        return self.ends_at < timezone.now()

    @property
    def is_ongoing(self) -> bool:
        """Whether the event has started and not yet ended."""
        return self.starts_at <= timezone.now() <= self.ends_at

    @property
    def places_left(self) -> int | None:
        """Places not yet confirmed to anyone (None: no limit); uses the
        `confirmed_count` the list's query annotates when it is there."""
        from events.selectors import event_places_left

        return event_places_left(event=self)

    @property
    def when_display(self) -> str:
        """Start and end in Asia/Shanghai, worded for the active language."""
        from events.pages import time_range_display

        return time_range_display(self.starts_at, self.ends_at)


class EventMessage(models.Model):
    """A message staff sent to an event's registrants from the admin
    (events.registration.services): one outbox e-mail per recipient, written
    in batches; `sent_up_to` is the last registration id done, so a retried
    batch never writes an e-mail twice."""

    class Audience(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("Waiting list")
        CHECKED_IN = "checked_in", _("Checked in")
        ALL = "all", _("Confirmed and waiting list")

    event = models.ForeignKey(
        EventPage,
        verbose_name=_("event"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    audience = models.CharField(
        _("recipients"), max_length=12, choices=Audience.choices
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    sent_up_to = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message to registrants")
        verbose_name_plural = _("messages to registrants")
        constraints = [
            models.CheckConstraint(
                condition=~Q(subject="") & ~Q(body=""),
                name="events_message_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


def checkin_code() -> str:
    """A random check-in code (the QR's content): 8 characters of
    Crockford's base32, shown as ``K7QM-3XPA`` (events.checkin.codes)."""
    from events.checkin.codes import code_new

    return code_new()


class Registration(models.Model):
    """A user's registration for an event: confirmed, waiting for a place, or
    cancelled. Never deleted; cancelling keeps the row. One active (confirmed
    or waiting) registration per user and event, as a constraint."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("Waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(
        EventPage,
        verbose_name=_("event"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
    )
    # Copied in when registering: the record outlives the page.
    event_title = models.CharField(_("event"), max_length=255)
    event_starts_at = models.DateTimeField(_("starts"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="event_registrations",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    code = models.CharField(
        _("check-in code"), max_length=32, unique=True, default=checkin_code
    )
    # The 20-character code of a registration made before the short codes
    # (events migration 0004), still accepted exactly as written.
    legacy_code = models.CharField(
        _("earlier check-in code"), max_length=32, unique=True, null=True, blank=True
    )
    phone = models.CharField(
        _("mobile phone"),
        max_length=30,
        blank=True,
        help_text=_("Optional: lets staff find you at the entrance."),
    )
    # Registered at the entrance by staff (events.checkin.services.walkin_register).
    walk_in = models.BooleanField(_("registered at the entrance"), default=False)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    # Waiting-list order: the time the registration joined the list.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A check-in scanned by mistake is reversed, not erased: who, when and why
    # stay, and the hours ledger gets a reversing entry.
    checkin_reversed_at = models.DateTimeField(
        _("check-in reversed"), null=True, blank=True
    )
    checkin_reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("check-in reversed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checkin_reversal_reason = models.TextField(
        _("why the check-in was reversed"), blank=True
    )
    # The event's ical_sequence this registrant last received (with the
    # confirmation, a change or the cancellation): a retried notification
    # skips whoever has it already.
    notified_sequence = models.PositiveIntegerField(default=0, editable=False)

    # Not columns: what events.checkin.services did, set on the registration
    # it returns (attendance_record, then checkin_reverse) for the message.
    earlier_certificate_revoked: bool
    hours_reversed: Decimal | None
    certificates_revoked: list[str]
    certificate_request_cancelled: bool

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["confirmed", "waiting"]),
                name="events_one_active_registration",
            ),
            models.CheckConstraint(
                condition=Q(checked_in_at__isnull=True) | Q(status="confirmed"),
                name="events_only_confirmed_check_in",
            ),
            # Stored upper case, without separators: reading a code folds
            # case and look-alikes, so two codes can never read the same.
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9A-HJKMNP-TV-Z]{8}$"),
                name="events_checkin_code_crockford",
            ),
            models.CheckConstraint(
                condition=Q(checkin_reversed_at__isnull=True)
                | Q(checked_in_at__isnull=False) & ~Q(checkin_reversal_reason=""),
                name="events_reversal_of_a_check_in_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "waiting_since"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.event_title}"

    @property
    def code_display(self) -> str:
        """The check-in code as printed and read out: ``K7QM-3XPA``."""
        from events.checkin.codes import code_display

        return code_display(self.code)
