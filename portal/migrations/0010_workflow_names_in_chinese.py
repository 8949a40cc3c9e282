"""Wagtail's default workflow and its task are rows named in English
("Moderators approval", wagtailcore 0048): the editor's "Submit to …"
button and the workflow listings show that name whatever the language, and
no catalogue reaches a row. Chinese is the portal's default language, so
the rows get the Chinese name; a name an operator has changed stays."""

from django.db import migrations

NAMES = {"Moderators approval": "审核员审批"}


def rename(apps, schema_editor):
    for model in ("Workflow", "Task"):
        Model = apps.get_model("wagtailcore", model)
        for old, new in NAMES.items():
            Model.objects.filter(name=old).update(name=new)


def unrename(apps, schema_editor):
    for model in ("Workflow", "Task"):
        Model = apps.get_model("wagtailcore", model)
        for old, new in NAMES.items():
            Model.objects.filter(name=new).update(name=old)


class Migration(migrations.Migration):
    dependencies = [
        ("wagtailcore", "0048_add_default_workflows"),
        ("portal", "0009_privacy_consent"),
    ]

    operations = [migrations.RunPython(rename, unrename)]
