"""Seed the talent pool's vocabularies from the project's own copy of the
shared vocabularies (portal/data/taxonomy.json, which portal's migrations
also read). Running it again updates labels and adds new terms; it never
removes a term, since experts may use it."""

import json
from pathlib import Path

from django.db import migrations

TAXONOMY = Path(__file__).resolve().parents[2] / "portal" / "data" / "taxonomy.json"
VOCABULARIES = (
    ("ExpertCategory", "expert_categories"),
    ("Service", "services"),
    ("Industry", "industries"),
    ("Language", "languages"),
    ("TalentTier", "talent_tiers"),
)


def seed(apps, schema_editor):
    taxonomy = json.loads(TAXONOMY.read_text(encoding="utf-8"))
    for model_name, key in VOCABULARIES:
        model = apps.get_model("talentpool", model_name)
        for order, term in enumerate(taxonomy[key]):
            model.objects.update_or_create(
                code=term["code"],
                defaults={"name_zh": term["zh"], "name_en": term["en"], "sort_order": order},
            )


class Migration(migrations.Migration):
    dependencies = [("talentpool", "0001_experts")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
