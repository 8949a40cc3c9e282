from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    label = "subscriptions"
    verbose_name = _("Subscriptions")

    def ready(self) -> None:
        from portal.privacy import register_personal_data
        from subscriptions import selectors

        # "Download my data" (portal.privacy). The subscription and its
        # deliveries go with the account (CASCADE): nothing else to erase.
        register_personal_data("subscriptions", export=selectors.personal_data)
