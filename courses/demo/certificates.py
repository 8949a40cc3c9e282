"""Demo certificate look for `make run`: a seal and a signatory on the default
template, so the first certificate a visitor earns looks like a real one.

Idempotent: images are found by title, and a template that already has
signatories or a seal that is already set is left alone.
"""

from pathlib import Path

from django.core.files.images import ImageFile

from wagtail.images import get_image_model

from courses.models import CertificateSettings, CertificateTemplate

HERE = Path(__file__).resolve().parent


def _image(title: str, filename: str):
    Image = get_image_model()
    image = Image.objects.filter(title=title).first()
    if image is None:
        with open(HERE / filename, "rb") as handle:
            image = Image.objects.create(
                title=title, file=ImageFile(handle, name=filename)
            )
    return image


def load_certificate_demo(created: list[str]) -> None:
    settings = CertificateSettings.load()
    if settings.seal_id is None:
        settings.seal = _image("培训专用章（演示）", "seal.png")
        settings.save()
        created.append("培训专用章（演示）")
    template = CertificateTemplate.objects.order_by("pk").first()
    if template is not None and not template.signatories:
        signature = _image("签名：王明远（演示）", "signature.png")
        template.signatories = [
            (
                "signatory",
                {
                    "name": "王明远",
                    "role": "培训中心主任",
                    "role_en": "Director, Training Centre",
                    "signature": signature,
                },
            )
        ]
        template.save()
        created.append(template.name)
