"""Validators of the portal's forms.

Password validators whose messages the portal translates itself: Django 5.2
reworded MinimumLengthValidator's error, and its Chinese catalogue has not
caught up: the sign-up form showed that one sentence in English.

validate_printable: a name that goes on a certificate must be printable
with the certificate's fonts.

normalise_email: the one form of an e-mail address that accounts and
imports store and compare.
"""

import unicodedata

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: use at least %(min_length)d character.",
            "This password is too short: use at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}


def unprintable_message(characters: list[str]) -> str:
    """Names the characters a certificate cannot print, with their code
    points (a character no font has may show as a box here too)."""
    shown = " ".join(f"{char} (U+{ord(char):04X})" for char in characters)
    return ngettext(
        "This character cannot be printed on a certificate: %(characters)s. "
        "Please write it another way (a common variant, or its pinyin).",
        "These characters cannot be printed on a certificate: %(characters)s. "
        "Please write them another way (common variants, or their pinyin).",
        len(characters),
    ) % {"characters": shown}


def validate_printable(value: str) -> None:
    """Refuses text (a name) with a character that no font of the
    certificate can draw (portal.fonts): it would print as a
    box. Used by every form that takes a name that goes on a certificate,
    and by the trainee import."""
    from portal.fonts import unprintable_characters

    characters = unprintable_characters(value or "")
    if characters:
        raise ValidationError(unprintable_message(characters), code="unprintable")


def normalise_email(value: str) -> str:
    """An e-mail address in the form the portal stores and compares: NFKC
    (a full-width ＠ or letters typed with a Chinese IME become ASCII), no
    surrounding spaces, lower case (accounts are unique whatever the case).
    Used by account creation and by the trainee and expert imports."""
    return unicodedata.normalize("NFKC", value or "").strip().lower()
