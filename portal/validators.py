"""Password validators whose messages the portal translates itself.

Django 5.2 reworded MinimumLengthValidator's error, and its Chinese catalogue
has not caught up: the sign-up form showed that one sentence in English.
"""

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: use at least %(min_length)d character.",
            "This password is too short: use at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
