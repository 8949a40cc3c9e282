from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TalentpoolConfig(AppConfig):
    name = "talentpool"
    verbose_name = _("Talent pool")

    def ready(self) -> None:
        from portal.privacy import register_personal_data
        from talentpool import import_jobs
        from talentpool.applications import selectors as applications_selectors
        from talentpool.applications import services as applications_services
        from talentpool.contacts import selectors as contacts_selectors
        from talentpool.search import signals

        signals.connect()
        import_jobs.register()
        # "Download my data" and account deletion (portal.privacy).
        register_personal_data(
            "talent_pool",
            export=applications_selectors.personal_data,
            erase=applications_services.talent_pool_erase_on_account_deletion,
        )
        register_personal_data(
            "contact_requests", export=contacts_selectors.personal_data
        )
