"""A plain default certificate template, so completions are certified from day
one; administrators add background, seal and signatories in the admin."""

from django.db import migrations


def create_default(apps, schema_editor):
    Template = apps.get_model("courses", "CertificateTemplate")
    if not Template.objects.exists():
        Template.objects.create(name="标准结业证书")


class Migration(migrations.Migration):
    dependencies = [("courses", "0004_certificates")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
