from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("talentpool", "0005_applications_enterprises_contacts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExpertSearchChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("stamp", models.PositiveIntegerField(verbose_name="stamp")),
            ],
            options={
                "verbose_name": "expert search change",
                "verbose_name_plural": "expert search changes",
            },
        ),
    ]
