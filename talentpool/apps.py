from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TalentpoolConfig(AppConfig):
    name = "talentpool"
    verbose_name = _("Talent pool")

    def ready(self) -> None:
        from talentpool import import_jobs
        from talentpool.search import signals

        signals.connect()
        import_jobs.register()
