"""Seed the audience and district vocabularies from the project's own copy of
the shared data, and replace Wagtail's welcome page with the portal's home."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def seed_vocabularies(apps, schema_editor):
    taxonomy = json.loads((DATA / "taxonomy.json").read_text(encoding="utf-8"))
    districts = json.loads((DATA / "chongqing-districts.json").read_text(encoding="utf-8"))
    for model_name, terms in (
        ("Audience", taxonomy["audiences"]),
        ("District", districts["districts"]),
    ):
        model = apps.get_model("portal", model_name)
        for order, term in enumerate(terms):
            model.objects.update_or_create(
                code=term["code"],
                defaults={"name_zh": term["zh"], "name_en": term["en"], "sort_order": order},
            )


def create_home(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    Locale = apps.get_model("wagtailcore", "Locale")
    HomePage = apps.get_model("portal", "HomePage")

    if HomePage.objects.exists():
        return
    # Wagtail's own migration leaves a welcome page at depth 2; the home replaces it.
    Page.objects.filter(depth=2, slug="home", content_type__model="page").delete()
    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="portal")
    locale = Locale.objects.order_by("pk").first()
    root = Page.objects.get(depth=1)
    home = HomePage.objects.create(
        title="知识产权培训与人才库",
        draft_title="知识产权培训与人才库",
        slug="home",
        content_type=content_type,
        path=f"{root.path}{(root.numchild + 1):04d}",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        live=True,
        intro="面向党政领导干部、公务员、企事业单位管理人员和专业技术人员的知识产权培训、政策发布与人才库服务平台。",
    )
    root.numchild += 1
    root.save(update_fields=["numchild"])
    Site.objects.filter(is_default_site=True).delete()
    Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_pages"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RunPython(seed_vocabularies, migrations.RunPython.noop),
        migrations.RunPython(create_home, migrations.RunPython.noop),
    ]
