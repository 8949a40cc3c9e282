"""Reads for the public certificate pages (reads live in selectors:
docs/decisions.md, convention 6)."""

from courses.models import Certificate


def certificate_by_code(*, code: str) -> Certificate | None:
    """The certificate with this verification code, with what its pages show."""
    return (
        Certificate.objects.select_related(
            "template_version", "replaces", "superseded_by", "request"
        )
        .filter(code=code)
        .first()
    )


def certificate_by_serial_and_name(*, serial: str, name: str) -> Certificate | None:
    """The certificate a checker describes: its serial number in any letter
    case and the holder's name exactly (both already trimmed)."""
    return Certificate.objects.filter(serial__iexact=serial, learner_name=name).first()
