"""Course content, edited in Wagtail: the catalogue, courses, lessons,
instructors and shared lesson content."""

from decimal import Decimal

from modelcluster.fields import ParentalKey, ParentalManyToManyField

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from courses.blocks import LessonBodyBlock, SharedContentBlock
from courses.completion import criterion_choices
from portal.http import signed_in_user
from portal.models.pages import ChineseSearchMixin


@register_snippet
class Instructor(index.Indexed, models.Model):
    """A teacher of one or more courses."""

    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title or position"), max_length=150, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    biography = models.TextField(_("biography"), blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("title"),
        FieldPanel("organisation"),
        FieldPanel("photo"),
        FieldPanel("biography"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("instructor")
        verbose_name_plural = _("instructors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@register_snippet
class SharedContent(models.Model):
    """Lesson content written once and used in several lessons."""

    title = models.CharField(_("title"), max_length=200)
    body = StreamField(SharedContentBlock(), verbose_name=_("content"))

    panels = [FieldPanel("title"), FieldPanel("body")]

    class Meta:
        verbose_name = _("shared lesson content")
        verbose_name_plural = _("shared lesson content")

    def __str__(self) -> str:
        return self.title


class CourseIndexPage(ChineseSearchMixin, Page):
    """The course catalogue (课程中心)."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["courses.CoursePage"]

    class Meta:
        verbose_name = _("course catalogue")

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from courses import selectors

        context = super().get_context(request, *args, **kwargs)
        context["items"] = selectors.catalogue(
            index=self, user=request.user, page_number=request.GET.get("page")
        )
        return context


class CoursePage(ChineseSearchMixin, Page):
    """A course: what it teaches, to whom, for how many hours, and how it is passed."""

    class Level(models.TextChoices):
        INTRODUCTORY = "introductory", _("Introductory")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    summary = models.TextField(_("summary"))
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip_types = ParentalManyToManyField(
        "portal.IPType", verbose_name=_("IP topics"), blank=True
    )
    audiences = ParentalManyToManyField(
        "portal.Audience",
        verbose_name=_("target audiences"),
        blank=True,
        help_text=_("Who may enrol themselves. None chosen: everyone."),
    )
    credit_hours = models.DecimalField(
        _("credit hours"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"))],
        help_text=_("学时 recorded when the course is completed."),
    )
    level = models.CharField(
        _("level"), max_length=20, choices=Level.choices, default=Level.INTRODUCTORY
    )
    instructors = ParentalManyToManyField(
        Instructor, verbose_name=_("instructors"), blank=True
    )
    prerequisites = ParentalManyToManyField(
        "self",
        verbose_name=_("prerequisite courses"),
        blank=True,
        symmetrical=False,
        help_text=_("Courses a learner must have completed before enrolling."),
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("quiz attempts allowed"), default=3, help_text=_("0 means unlimited.")
    )
    self_enrolment = models.BooleanField(
        _("learners may enrol themselves"),
        default=True,
        help_text=_(
            "Otherwise only training managers enrol learners, through training classes."
        ),
    )
    enrolment_opens = models.DateTimeField(_("enrolment opens"), null=True, blank=True)
    enrolment_closes = models.DateTimeField(
        _("enrolment closes"), null=True, blank=True
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        MultiFieldPanel(
            [
                FieldPanel("ip_types", widget=forms.CheckboxSelectMultiple),
                FieldPanel("audiences", widget=forms.CheckboxSelectMultiple),
                FieldRowPanel([FieldPanel("credit_hours"), FieldPanel("level")]),
                FieldPanel("instructors"),
            ],
            heading=_("About the course"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("prerequisites"),
                FieldRowPanel([FieldPanel("pass_mark"), FieldPanel("max_attempts")]),
                FieldPanel("self_enrolment"),
                FieldRowPanel(
                    [FieldPanel("enrolment_opens"), FieldPanel("enrolment_closes")]
                ),
            ],
            heading=_("Enrolment and completion"),
        ),
        InlinePanel(
            "completion_criteria",
            label=_("Completion criteria"),
            help_text=_(
                "All must hold. None chosen: every required lesson done "
                "and every quiz passed."
            ),
        ),
    ]
    search_summary_field = "summary"
    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def clean(self) -> None:
        super().clean()
        if (
            self.enrolment_opens
            and self.enrolment_closes
            and self.enrolment_closes <= self.enrolment_opens
        ):
            raise ValidationError(
                {"enrolment_closes": _("Enrolment must close after it opens.")}
            )

    def enrolment_is_open(self, now=None) -> bool:
        now = now or timezone.now()
        if self.enrolment_opens and now < self.enrolment_opens:
            return False
        return not (self.enrolment_closes and now >= self.enrolment_closes)

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from courses import selectors

        context = super().get_context(request, *args, **kwargs)
        context.update(selectors.course_page_context(course=self, user=request.user))
        return context


class LessonPage(ChineseSearchMixin, Page):
    """A lesson of a course; its blocks decide how it is completed."""

    summary = models.TextField(_("summary"), blank=True)
    is_required = models.BooleanField(
        _("required"),
        default=True,
        help_text=_("Required lessons count towards completion."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("estimated minutes"), default=15
    )
    minimum_minutes = models.PositiveSmallIntegerField(
        _("minimum reading time (minutes)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(600)],
        help_text=_(
            "A reading or document lesson completes no sooner than this after the "
            "learner first opens it. Blank: worked out from the text's length "
            "(about 400 Chinese characters a minute) and the PDFs' pages."
        ),
    )
    body = StreamField(LessonBodyBlock(), verbose_name=_("content"))

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldRowPanel([FieldPanel("is_required"), FieldPanel("duration_minutes")]),
        FieldPanel("minimum_minutes"),
        FieldPanel("body"),
    ]
    search_summary_field = "summary"
    parent_page_types = ["courses.CoursePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    # --- what the lesson asks of a learner --------------------------------

    def quiz_blocks(self) -> list:
        return [block for block in self.body if block.block_type == "quiz"]

    def quiz_keys(self) -> list[str]:
        """The ids of quiz_blocks(), read from the stored body without
        building its blocks: a course's progress asks it of every lesson on
        every course and lesson page."""
        return [item.get("id") for item in self.body.raw_data if item["type"] == "quiz"]

    def tracked_videos(self) -> list:
        return [
            block
            for block in self.body
            if block.block_type == "video" and block.value.get("video")
        ]

    @property
    def kind(self) -> str:
        """quiz, video or reading: how the lesson is completed."""
        if self.quiz_keys():
            return "quiz"
        if self.tracked_videos():
            return "video"
        return "reading"

    def course(self) -> CoursePage:
        """The lesson's course in one query (not get_parent() and .specific),
        kept as the parent so that get_parent() finds it too."""
        cached = getattr(self, "_cached_parent_obj", None)
        if not isinstance(cached, CoursePage):
            cached = CoursePage.objects.get(path=self.path[: -self.steplen])
            self._cached_parent_obj = cached
        return cached

    def serve(self, request: HttpRequest, *args, **kwargs):
        from courses import permissions, selectors, services

        enrolment = selectors.enrolment_in(user=request.user, course=self.course())
        if enrolment is None:
            # Not enrolled: staff may still look (courses.permissions).
            denied = permissions.lesson_access_response(request=request, lesson=self)
            if denied:
                return denied
        else:
            # Enrolled learners may see the lesson; the visit is remembered for
            # "continue where I left off" with the enrolment already loaded.
            # An enrolment was found, so the user is signed in.
            self._visit = (
                enrolment,
                services.lesson_visit(
                    user=signed_in_user(request), lesson=self, enrolment=enrolment
                ),
            )
        return super().serve(request, *args, **kwargs)

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from courses import selectors

        context = super().get_context(request, *args, **kwargs)
        enrolment, progress = getattr(self, "_visit", (None, None))
        context.update(
            selectors.lesson_page_context(
                lesson=self, user=request.user, enrolment=enrolment, progress=progress
            )
        )
        # How long is left of a reading lesson's minimum time (courses.reading).
        from courses import reading

        context["reading_wait"] = reading.lesson_page_wait(
            lesson=self, progress=context.get("lesson_progress")
        )
        # Shown once, with the open attempt it belongs to (see views.quiz_submit).
        session = getattr(request, "session", None)
        context["quiz_draft"] = (
            session.pop(selectors.QUIZ_DRAFT_SESSION_KEY, None)
            if session is not None
            else None
        )
        return context


class CourseCompletionCriterion(Orderable):
    """One of a course's completion criteria; all of them must hold (ALL).
    The kinds come from courses.completion, where new ones are registered."""

    page = ParentalKey(
        CoursePage, on_delete=models.CASCADE, related_name="completion_criteria"
    )
    kind = models.CharField(_("criterion"), max_length=40, choices=criterion_choices)

    panels = [FieldPanel("kind")]

    class Meta(Orderable.Meta):
        verbose_name = _("completion criterion")
        verbose_name_plural = _("completion criteria")
        constraints = [
            models.UniqueConstraint(
                fields=["page", "kind"], name="courses_criterion_once"
            )
        ]


class MediaFacts(models.Model):
    """What the server measured in an uploaded document when it was saved: a
    video's length, a PDF's page count. Lessons trust these, never a length a
    browser reports (docs/certificates.md, "What a certificate attests").
    Measured again when the file changes (file_hash)."""

    document = models.OneToOneField(
        "wagtaildocs.Document",
        verbose_name=_("document"),
        on_delete=models.CASCADE,
        related_name="media_facts",
    )
    file_hash = models.CharField(_("file hash"), max_length=40, blank=True)
    duration_seconds = models.FloatField(_("length (s)"), null=True, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    error = models.TextField(_("why it could not be measured"), blank=True)
    measured_at = models.DateTimeField(_("measured"), auto_now=True)

    class Meta:
        verbose_name = _("media facts")
        verbose_name_plural = _("media facts")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__gt=0),
                name="courses_media_duration_positive",
            )
        ]

    def __str__(self) -> str:
        return str(self.document)
