"""Identifiers that come with organisations and experts, checked and normalised.

Every function takes text as people type it (full-width characters from a
Chinese input method, spaces, lower case) and either returns the normal form
or raises ValidationError with a message in the active language.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 18 characters from this 31-character set (no I, O, S, V, Z),
# the last a check character over the first 17.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_SHAPE = re.compile(
    rf"^[{CREDIT_CODE_CHARSET}]{{2}}\d{{6}}[{CREDIT_CODE_CHARSET}]{{10}}$"
)

# Practising-certificate and qualification numbers differ by profession and
# year (lawyers' are 17 digits, older patent attorneys' 5); what they share
# is letters, digits and a few separators, with at least four digits.
_LICENCE_SHAPE = re.compile(r"^[A-Z0-9][A-Z0-9\-/()]{3,38}[A-Z0-9)]$")
MAX_LICENCE_LENGTH = 40


def _compact(value: str) -> str:
    """NFKC (full-width to ASCII), no spaces anywhere, upper case."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def credit_code_check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(
        CREDIT_CODE_CHARSET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """The code in its normal form, or ValidationError saying what is wrong."""
    code = _compact(value)
    if len(code) != 18:
        raise ValidationError(
            _(
                "A unified social credit code has 18 characters; "
                "“%(value)s” has %(length)s."
            ),
            code="credit_code_length",
            params={"value": value, "length": len(code)},
        )
    if not _CREDIT_CODE_SHAPE.match(code):
        raise ValidationError(
            _(
                "“%(value)s” is not a unified social credit code: it may hold only "
                "digits and capital letters other than I, O, S, V and Z, and its "
                "third to eighth characters are a six-digit area code."
            ),
            code="credit_code_characters",
            params={"value": value},
        )
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _(
                "The unified social credit code “%(value)s” is wrong: its last "
                "character should be %(expected)s by the GB 32100-2015 check. "
                "Check it against the business licence."
            ),
            code="credit_code_check",
            params={"value": value, "expected": expected},
        )
    return code


def validate_credit_code(value: str) -> None:
    """Model and form validator for 统一社会信用代码 (GB 32100-2015)."""
    if value:
        normalise_credit_code(value)


def normalise_licence_number(value: str) -> str:
    """A practising-certificate number in its normal form (NFKC, no spaces,
    upper case), or ValidationError."""
    number = _compact(value)
    if (
        len(number) > MAX_LICENCE_LENGTH
        or not _LICENCE_SHAPE.match(number)
        or sum(char.isdigit() for char in number) < 4
    ):
        raise ValidationError(
            _(
                "“%(value)s” is not a licence number: it should be 5 to 40 digits "
                "or capital letters (hyphens allowed), with at least four digits."
            ),
            code="licence_number",
            params={"value": value},
        )
    return number


def validate_licence_number(value: str) -> None:
    if value:
        normalise_licence_number(value)


_PHONE_SHAPE = re.compile(r"^\+?[0-9][0-9\-() ]{5,23}[0-9]$")


def normalise_phone(value: str) -> str:
    """A telephone number as typed, full-width digits made ASCII; or
    ValidationError when it is not one (letters, too short)."""
    phone = " ".join(unicodedata.normalize("NFKC", value).split())
    if not _PHONE_SHAPE.match(phone) or sum(c.isdigit() for c in phone) < 7:
        raise ValidationError(
            _("“%(value)s” is not a telephone number."),
            code="phone",
            params={"value": value},
        )
    return phone


def validate_phone(value: str) -> None:
    if value:
        normalise_phone(value)
