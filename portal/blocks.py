"""StreamField blocks shared by every page type ("fewer page types, more
reusable blocks")."""

from django.utils.translation import gettext_lazy as _

from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("text"), max_length=200)
    level = blocks.ChoiceBlock(
        label=_("level"),
        choices=[
            ("h2", _("Heading 2")),
            ("h3", _("Heading 3")),
            ("h4", _("Heading 4")),
        ],
        default="h2",
    )

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "blocks/heading_block.html"


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=250)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "blocks/captioned_image_block.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("quotation"))
    attribution = blocks.CharBlock(label=_("attribution"), required=False)

    class Meta:
        icon = "openquote"
        label = _("Quotation")
        template = "blocks/quote_block.html"


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        label=_("kind"),
        choices=[("info", _("Information")), ("important", _("Important"))],
        default="info",
    )
    title = blocks.CharBlock(label=_("title"), required=False, max_length=120)
    text = blocks.RichTextBlock(
        label=_("text"), features=["bold", "italic", "link", "ol", "ul"]
    )

    class Meta:
        icon = "warning"
        label = _("Callout")
        template = "blocks/callout_block.html"


class DocumentLinkBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("document"))
    title = blocks.CharBlock(
        label=_("link text"),
        required=False,
        help_text=_("Leave empty to use the document's title."),
    )

    class Meta:
        icon = "doc-full"
        label = _("Document")
        template = "blocks/document_link_block.html"


RICH_TEXT_FEATURES = [
    "h2",
    "h3",
    "h4",
    "bold",
    "italic",
    "ol",
    "ul",
    "link",
    "document-link",
    "hr",
]


class BodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"), icon="pilcrow", features=RICH_TEXT_FEATURES
    )
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    callout = CalloutBlock()
    document = DocumentLinkBlock()
    embed = EmbedBlock(label=_("Embedded media"), icon="media")

    class Meta:
        template = "blocks/body_block.html"
