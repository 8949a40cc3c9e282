from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal import (
            admin_scripts,
            checks,
            frontend_cache,
            signal_handlers,
            site_url,
        )

        checks.register()
        post_migrate.connect(site_url.site_sync, sender=self)
        signal_handlers.connect()
        frontend_cache.connect()
        admin_scripts.install()
