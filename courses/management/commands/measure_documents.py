from django.core.management.base import BaseCommand

from wagtail.documents import get_document_model

from courses import media


class Command(BaseCommand):
    help = (
        "Read the length of every video document and the pages of every PDF whose "
        "facts are missing, failed or older than the file (courses.media): for "
        "files uploaded before the portal measured them, or after installing "
        "ffprobe. Idempotent: a file measured before is not read again."
    )

    def handle(self, *args, **options) -> None:
        measured = failed = 0
        for document in get_document_model().objects.order_by("pk").iterator():
            if not media.is_measured_kind(document):
                continue
            facts = media.media_facts_measure(document_id=document.pk)
            if facts is not None and facts.error:
                failed += 1
                self.stderr.write(f"{document.pk} {document.title}: {facts.error}")
            elif facts is not None:
                measured += 1
        self.stdout.write(f"Documents measured: {measured}; not measurable: {failed}.")
