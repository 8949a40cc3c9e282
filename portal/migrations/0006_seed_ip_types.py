"""Seed the IP types from the project's copy of the shared vocabularies."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def seed(apps, schema_editor):
    taxonomy = json.loads((DATA / "taxonomy.json").read_text(encoding="utf-8"))
    IPType = apps.get_model("portal", "IPType")
    for order, term in enumerate(taxonomy["ip_types"]):
        IPType.objects.update_or_create(
            code=term["code"],
            defaults={"name_zh": term["zh"], "name_en": term["en"], "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_iptype")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
