"""The search synonyms an IP office starts with (talentpool/search/data/
synonyms.tsv); staff edit them afterwards in the admin."""

from django.db import migrations


def seed(apps, schema_editor):
    from talentpool.search.lexicon import seed_synonyms

    SearchSynonym = apps.get_model("talentpool", "SearchSynonym")
    known = set(SearchSynonym.objects.values_list("phrase", flat=True))
    SearchSynonym.objects.bulk_create(
        SearchSynonym(phrase=phrase, alternatives=alternatives, mutual=mutual)
        for phrase, alternatives, mutual in seed_synonyms()
        if phrase not in known
    )


class Migration(migrations.Migration):
    dependencies = [("talentpool", "0008_consent_evidence_invitations_synonyms")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
