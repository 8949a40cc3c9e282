"""Wagtail's default groups are rows named in English ("Moderators",
"Editors", wagtailcore 0002): the admin's group list, a user's groups and
the workflow's task settings show those names whatever the language, and no
catalogue reaches a row. Chinese is the portal's default language, so the
groups get Chinese names: 审核员 (as in 0010's "审核员审批", the moderators'
approval) and 编辑.

A group an operator has deleted or renamed is left alone (nothing to
rename), and so is a default group whose Chinese name another group already
has (Group.name is unique): that group keeps its English name. Reversible
the same way. Wagtail's own migrations that grant permissions to the groups
by their English names (wagtailadmin 0001, wagtailimages and wagtaildocs
0002, wagtailcore 0005) run before this one; nothing in the portal looks a
group up by name."""

from django.db import migrations

NAMES = {"Moderators": "审核员", "Editors": "编辑"}


def _rename(apps, names: dict[str, str]) -> None:
    Group = apps.get_model("auth", "Group")
    for old, new in names.items():
        if Group.objects.filter(name=new).exists():
            continue
        Group.objects.filter(name=old).update(name=new)


def rename(apps, schema_editor):
    _rename(apps, NAMES)


def unrename(apps, schema_editor):
    _rename(apps, {new: old for old, new in NAMES.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("portal", "0010_workflow_names_in_chinese"),
    ]

    operations = [migrations.RunPython(rename, unrename)]
