"""manage.py reindex_experts: rebuild the talent pool's search index."""

import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from talentpool.models import ExpertToken
from talentpool.search import experts_reindex


class Command(BaseCommand):
    help = (
        "Rebuild the search index of every expert (or of the given ids), a "
        "batch at a time. Safe to run while the site is up, and to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "ids", nargs="*", type=int, help="expert ids (default: all)"
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        verbose = options["verbosity"] > 1

        def progress(done: int) -> None:
            if verbose:
                self.stdout.write(_("%(count)s experts indexed…") % {"count": done})

        count = experts_reindex(
            expert_ids=options["ids"] or None,
            batch_size=options["batch_size"],
            progress=progress,
        )
        if not options["ids"]:
            # Fresh statistics, so the planner uses the token index well.
            table = connection.ops.quote_name(ExpertToken._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {table}")
        self.stdout.write(
            _("%(count)s experts indexed in %(seconds).1f s.")
            % {"count": count, "seconds": time.monotonic() - started}
        )
