"""The database cache table, when the cache is a database table (no REDIS_URL):
allauth's rate limits are counted there, shared by every process."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_seed_vocabularies_and_home")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
