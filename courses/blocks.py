"""Lesson blocks: text, image, video, document, callout and quiz, plus
reusable content that editors share between lessons."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.snippets.blocks import SnippetChooserBlock

from portal.blocks import (
    RICH_TEXT_FEATURES,
    CalloutBlock,
    CaptionedImageBlock,
    HeadingBlock,
)

VIDEO_EXTENSIONS = ("mp4", "webm", "ogv")


class VideoBlock(blocks.StructBlock):
    """A video: an uploaded file (tracked while it plays) or an embed."""

    title = blocks.CharBlock(label=_("title"), required=False, max_length=200)
    video = DocumentChooserBlock(
        label=_("video file"),
        required=False,
        help_text=_("An MP4 or WebM file uploaded as a document. Watching is tracked."),
    )
    captions = DocumentChooserBlock(
        label=_("captions (WebVTT)"), required=False, help_text=_("A .vtt file.")
    )
    embed = EmbedBlock(
        label=_("or an embedded video"),
        required=False,
        help_text=_("Used when there is no file; an embed cannot be tracked."),
    )
    embed_minutes = blocks.IntegerBlock(
        label=_("length of the embedded video (minutes)"),
        required=False,
        min_value=1,
        max_value=600,
        help_text=_(
            "For an embed only: the lesson's minimum time includes it. "
            "An uploaded file's length is read from the file."
        ),
    )
    transcript = blocks.TextBlock(label=_("transcript"), required=False)

    class Meta:
        icon = "media"
        label = _("Video")
        template = "courses/blocks/video_block.html"

    def clean(self, value):
        value = super().clean(value)
        errors = {}
        if not value.get("video") and not value.get("embed"):
            errors["video"] = ValidationError(
                _("Choose a video file or give an embed URL.")
            )
        video = value.get("video")
        if video and video.file_extension.lower() not in VIDEO_EXTENSIONS:
            errors["video"] = ValidationError(
                _("The video must be an MP4, WebM or OGV file.")
            )
        elif video:
            # Watching is tracked against the length the server read from the
            # file (courses.media); measured now if the worker has not yet.
            from courses import media

            facts = media.media_facts_measure(document_id=video.pk)
            if facts is None or not facts.duration_seconds:
                errors["video"] = ValidationError(
                    _(
                        "The length of this video could not be read, so watching "
                        "it could not complete the lesson: %(reason)s Upload it "
                        "again as an MP4 (H.264) or WebM file."
                    )
                    % {"reason": facts.error if facts else ""}
                )
        captions = value.get("captions")
        if captions and captions.file_extension.lower() != "vtt":
            errors["captions"] = ValidationError(
                _("Captions must be a WebVTT (.vtt) file.")
            )
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value


class PdfBlock(blocks.StructBlock):
    """A PDF shown in the page and offered for download."""

    document = DocumentChooserBlock(label=_("PDF document"))
    title = blocks.CharBlock(label=_("title"), required=False, max_length=200)

    class Meta:
        icon = "doc-full"
        label = _("PDF document")
        template = "courses/blocks/pdf_block.html"

    def clean(self, value):
        value = super().clean(value)
        document = value.get("document")
        if document and document.file_extension.lower() != "pdf":
            raise StructBlockValidationError(
                block_errors={"document": ValidationError(_("Choose a PDF document."))}
            )
        return value


class QuizOptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("option"), max_length=300)
    correct = blocks.BooleanBlock(label=_("correct"), required=False)

    class Meta:
        icon = "tick"
        label = _("Option")


class QuizQuestionBlock(blocks.StructBlock):
    """One question. True/false questions need no options: the answer is chosen."""

    SINGLE, MULTIPLE, TRUE_FALSE = "single", "multiple", "true_false"

    kind = blocks.ChoiceBlock(
        # "type" is also an event's (活动类型): a context of its own.
        label=pgettext_lazy("quiz question", "type"),
        choices=[
            (SINGLE, _("Single choice")),
            (MULTIPLE, _("Multiple choice")),
            (TRUE_FALSE, _("True or false")),
        ],
        default=SINGLE,
    )
    text = blocks.TextBlock(label=_("question"))
    options = blocks.ListBlock(QuizOptionBlock(), label=_("options"), min_num=0)
    true_false_answer = blocks.ChoiceBlock(
        label=_("answer (true or false questions)"),
        choices=[("true", _("True")), ("false", _("False"))],
        required=False,
    )
    explanation = blocks.TextBlock(
        label=_("explanation"),
        required=False,
        help_text=_("Shown with the correct answers, as the quiz's setting says."),
    )

    class Meta:
        icon = "help"
        label = _("Question")

    def clean(self, value):
        value = super().clean(value)
        kind = value.get("kind")
        options = list(value.get("options") or [])
        correct = [option for option in options if option.get("correct")]
        error = None
        if kind == self.TRUE_FALSE:
            if not value.get("true_false_answer"):
                error = (
                    "true_false_answer",
                    _("Choose whether the statement is true or false."),
                )
        elif len(options) < 2:
            error = ("options", _("Give at least two options."))
        elif kind == self.SINGLE and len(correct) != 1:
            error = (
                "options",
                _("A single-choice question needs exactly one correct option."),
            )
        elif kind == self.MULTIPLE and not correct:
            error = ("options", _("Mark at least one option as correct."))
        if error:
            raise StructBlockValidationError(
                block_errors={error[0]: ValidationError(error[1])}
            )
        return value


SHOW_NEVER = "never"
SHOW_AFTER_PASSING = "after_passing"
SHOW_AFTER_PASSING_OR_LAST = "after_passing_or_last"


class QuizBlock(blocks.StructBlock):
    """A quiz: its score counts against the course's pass mark."""

    title = blocks.CharBlock(label=_("title"), max_length=200, default=_("Quiz"))
    intro = blocks.TextBlock(label=_("introduction"), required=False)
    questions = blocks.ListBlock(QuizQuestionBlock(), label=_("questions"), min_num=1)
    draw = blocks.IntegerBlock(
        label=_("questions per attempt"),
        required=False,
        min_value=0,
        default=0,
        help_text=_(
            "Each attempt draws this many questions at random from the bank above. "
            "0 or blank: every question."
        ),
    )
    shuffle_options = blocks.BooleanBlock(
        label=_("shuffle the options in each attempt"), required=False, default=True
    )
    wait_minutes = blocks.IntegerBlock(
        label=_("wait between attempts (minutes)"),
        required=False,
        min_value=0,
        max_value=10080,
        default=0,
        help_text=_("0: a learner may try again at once."),
    )
    # Quizzes stored before this setting existed get its default (StructBlock
    # fills a missing child with get_default()).
    show_answers = blocks.ChoiceBlock(
        label=_("show correct answers"),
        choices=[
            (SHOW_NEVER, _("Never")),
            (SHOW_AFTER_PASSING, _("After passing")),
            (SHOW_AFTER_PASSING_OR_LAST, _("After passing or the last attempt")),
        ],
        default=SHOW_AFTER_PASSING_OR_LAST,
        help_text=_(
            "When a learner's result shows the correct answers and the explanations. "
            "Until then it shows the score and which questions were wrong, so that "
            "the next attempt cannot be copied from the last one."
        ),
    )

    class Meta:
        icon = "form"
        label = _("Quiz")
        template = "courses/blocks/quiz_block.html"

    def clean(self, value):
        value = super().clean(value)
        # An error rather than a silent clamp: an editor who asks for 20 of 12
        # questions has usually lost questions, and should see it.
        draw, bank = value.get("draw") or 0, len(value.get("questions") or [])
        if draw > bank:
            raise StructBlockValidationError(
                block_errors={
                    "draw": ValidationError(
                        ngettext(
                            "The quiz has %(bank)d question: an attempt cannot "
                            "draw %(draw)d. Add questions or draw fewer (0 draws "
                            "every question).",
                            "The quiz has %(bank)d questions: an attempt cannot "
                            "draw %(draw)d. Add questions or draw fewer (0 draws "
                            "every question).",
                            bank,
                        )
                        % {"bank": bank, "draw": draw}
                    )
                }
            )
        return value


class SharedContentBlock(blocks.StreamBlock):
    """What shared content may hold (no quizzes: attempts belong to one lesson)."""

    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"), icon="pilcrow", features=RICH_TEXT_FEATURES
    )
    image = CaptionedImageBlock()
    callout = CalloutBlock()
    video = VideoBlock()
    pdf = PdfBlock()


class LessonBodyBlock(SharedContentBlock):
    quiz = QuizBlock()
    shared = SnippetChooserBlock(
        "courses.SharedContent",
        label=_("Shared content"),
        icon="snippet",
        template="courses/blocks/shared_block.html",
    )

    class Meta:
        template = "blocks/body_block.html"
