"""PAdES signatures on certificate PDFs with pyHanko, when a key is configured.

The key and certificate come from files named in the environment
(docs/configuration.md, "Certificate signing"): a PEM/DER key and
certificate, or one PKCS#12 file. They are read once per process. A key that
cannot be read, a wrong passphrase or a key that does not belong to its
certificate is refused at start-up by the system check ``courses.E101``
(``signing_errors``), not by a failing render task hours later.

Each PDF gets one PAdES baseline B-B signature (ETSI.CAdES.detached,
SHA-256) that also certifies the document with "no changes allowed": any
byte changed afterwards, or any later revision added to the file, makes PDF
readers report the signature as invalid or the document as altered. Nothing
is fetched from the network unless a timestamp server is configured
(``PORTAL_CERTIFICATE_TSA_URL``, PAdES B-T).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

#: The name of the signature field in every signed certificate.
FIELD_NAME = "Signature1"


class SigningConfigurationError(ImproperlyConfigured):
    """The signing key or certificate cannot be used; the message says why."""


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise SigningConfigurationError(
            _("%(what)s cannot be read (%(path)s): %(error)s")
            % {"what": what, "path": path, "error": error.strerror or error}
        ) from error


def _load_certificates(data: bytes, what: str) -> list:
    from cryptography import x509

    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as error:
        raise SigningConfigurationError(
            _("%(what)s is not a PEM or DER certificate.") % {"what": what}
        ) from error


def _passphrase() -> bytes | None:
    value = settings.PORTAL_CERTIFICATE_SIGNING_PASSPHRASE
    return value.encode() if value else None


def _key_and_certificates() -> tuple:
    """(private key, signing certificate, other certificates), as cryptography
    objects, from the PEM/DER files or the PKCS#12 file of the settings."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    passphrase = _passphrase()
    chain = []
    if settings.PORTAL_CERTIFICATE_SIGNING_CHAIN:
        chain_file = settings.PORTAL_CERTIFICATE_SIGNING_CHAIN
        chain = _load_certificates(
            _read(chain_file, "PORTAL_CERTIFICATE_SIGNING_CHAIN"),
            "PORTAL_CERTIFICATE_SIGNING_CHAIN",
        )
    if settings.PORTAL_CERTIFICATE_SIGNING_PKCS12:
        data = _read(
            settings.PORTAL_CERTIFICATE_SIGNING_PKCS12,
            "PORTAL_CERTIFICATE_SIGNING_PKCS12",
        )
        try:
            key, certificate, extra = pkcs12.load_key_and_certificates(data, passphrase)
        except (ValueError, TypeError) as error:
            raise SigningConfigurationError(
                _(
                    "The PKCS#12 file cannot be opened: wrong passphrase "
                    "(PORTAL_CERTIFICATE_SIGNING_PASSPHRASE) or not a PKCS#12 file."
                )
            ) from error
        if key is None or certificate is None:
            raise SigningConfigurationError(
                _("The PKCS#12 file holds no private key and certificate.")
            )
        return key, certificate, [*extra, *chain]
    key_data = _read(
        settings.PORTAL_CERTIFICATE_SIGNING_KEY, "PORTAL_CERTIFICATE_SIGNING_KEY"
    )
    load = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in key_data
        else serialization.load_der_private_key
    )
    try:
        key = load(key_data, password=passphrase)
    except (ValueError, TypeError) as error:
        # cryptography says TypeError for a missing or superfluous passphrase
        # and ValueError for a wrong one or a file that is not a key.
        raise SigningConfigurationError(
            _(
                "The signing key cannot be opened: wrong or missing passphrase "
                "(PORTAL_CERTIFICATE_SIGNING_PASSPHRASE), or not a private key."
            )
        ) from error
    certificates = _load_certificates(
        _read(
            settings.PORTAL_CERTIFICATE_SIGNING_CERT, "PORTAL_CERTIFICATE_SIGNING_CERT"
        ),
        "PORTAL_CERTIFICATE_SIGNING_CERT",
    )
    return key, certificates[0], [*certificates[1:], *chain]


def signing_configured() -> bool:
    return bool(
        settings.PORTAL_CERTIFICATE_SIGNING_PKCS12
        or settings.PORTAL_CERTIFICATE_SIGNING_KEY
        or settings.PORTAL_CERTIFICATE_SIGNING_CERT
    )


def load_signer() -> SimpleSigner | None:
    """Build the signer from the settings; None when signing is not configured.

    Raises SigningConfigurationError with a message an operator can act on.
    """
    from cryptography.hazmat.primitives import serialization
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if not signing_configured():
        return None
    if not settings.PORTAL_CERTIFICATE_SIGNING_PKCS12 and not (
        settings.PORTAL_CERTIFICATE_SIGNING_KEY
        and settings.PORTAL_CERTIFICATE_SIGNING_CERT
    ):
        raise SigningConfigurationError(
            _(
                "Set both PORTAL_CERTIFICATE_SIGNING_KEY and "
                "PORTAL_CERTIFICATE_SIGNING_CERT, or PORTAL_CERTIFICATE_SIGNING_PKCS12."
            )
        )
    key, certificate, others = _key_and_certificates()
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if key.public_key().public_bytes(
        encoding, public
    ) != certificate.public_key().public_bytes(encoding, public):
        # Signing would work, and every signature would then fail to verify.
        raise SigningConfigurationError(
            _(
                "The signing key (PORTAL_CERTIFICATE_SIGNING_KEY) does not belong to "
                "the signing certificate (PORTAL_CERTIFICATE_SIGNING_CERT)."
            )
        )
    registry = SimpleCertificateStore()
    registry.register_multiple(
        translate_pyca_cryptography_cert_to_asn1(c) for c in others
    )
    signer = _signer_class()(
        signing_key=translate_pyca_cryptography_key_to_asn1(key),
        signing_cert=translate_pyca_cryptography_cert_to_asn1(certificate),
        cert_registry=registry,
    )
    signer.private_key = key
    # Room for the signature in the PDF, in hex digits: the certificates, the
    # signature value and the signed attributes, with a margin. Without it
    # pyHanko makes a dummy signature first to measure, for every PDF.
    der = sum(len(c.public_bytes(encoding)) for c in [certificate, *others])
    signer.bytes_reserved = 2 * (der + 2 * _key_bytes(key) + 4096)
    return signer


def _key_bytes(key) -> int:
    return (getattr(key, "key_size", 0) + 7) // 8 or 512


@functools.cache
def _signer_class() -> type:
    from asn1crypto import cms
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from pyhanko.sign import signers
    from pyhanko.sign.attributes import CMSAttributeProvider
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class KeptAttribute(CMSAttributeProvider):
        """A signed attribute that is the same in every signature of one
        signer, built once and then read back from its DER bytes."""

        def __init__(self, provider: CMSAttributeProvider, kept: dict) -> None:
            self.provider = provider
            self.attribute_type = provider.attribute_type
            self.kept = kept

        async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute | None:
            if self.attribute_type not in self.kept:
                attribute = await self.provider.get_attribute(dry_run=dry_run)
                self.kept[self.attribute_type] = attribute and attribute.dump()
            der = self.kept[self.attribute_type]
            return der and cms.CMSAttribute.load(der)

    class KeptKeySigner(signers.SimpleSigner):
        """pyHanko's SimpleSigner parses its private key again for every
        signature (about 50 ms for RSA-2048, most of a signature's cost);
        this one keeps the parsed key for RSA PKCS#1 v1.5 and ECDSA, the
        common cases, and leaves the others to pyHanko.

        It also keeps the two signed attributes that depend only on the
        signer (signing-certificate-v2: the certificate's hash and issuer;
        CMS algorithm protection): asn1crypto builds them from Python values
        in about 15 ms a signature, three quarters of what was left; read
        back from their bytes they cost nothing. The signing time and the
        document's digest are built for every signature as before."""

        private_key = None
        bytes_reserved: int | None = None
        CONSTANT_ATTRIBUTES = frozenset(
            {"signing_certificate_v2", "cms_algorithm_protection"}
        )

        def _signed_attr_providers(
            self, data_digest, digest_algorithm, *args, **kwargs
        ):
            kept = self.__dict__.setdefault("_kept_attributes", {})
            for provider in super()._signed_attr_providers(
                data_digest, digest_algorithm, *args, **kwargs
            ):
                if provider.attribute_type in self.CONSTANT_ATTRIBUTES:
                    yield KeptAttribute(provider, kept.setdefault(digest_algorithm, {}))
                else:
                    yield provider

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(
                digest_algorithm
            ).signature_algo
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            key = self.private_key
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), hash_algorithm)
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)

    return KeptKeySigner


@functools.cache
def configured_signer() -> SimpleSigner | None:
    """The signer from settings, built once per process, or None when no
    signing key is configured. Tests that change the settings call
    ``configured_signer.cache_clear()``."""
    return load_signer()


def preload() -> None:
    """Import pyHanko's signing modules now, when a key is configured.

    Called with rendering.preload in the Celery worker's main process before
    it forks: pyHanko imports aiohttp and its HTTP clients for timestamps
    (about 11 MiB) even when no timestamp server is used; imported once here,
    the pool processes share those pages instead of each importing its own.
    The key itself is loaded in each pool process (configured_signer).
    """
    if not (
        settings.PORTAL_CERTIFICATE_SIGNING_KEY
        or settings.PORTAL_CERTIFICATE_SIGNING_PKCS12
    ):
        return
    from pyhanko.pdf_utils import incremental_writer  # noqa: F401
    from pyhanko.sign import fields, signers, timestamps  # noqa: F401

    _signer_class()


def signing_errors() -> list[str]:
    """What is wrong with the signing configuration ([] when fine or unset)."""
    try:
        load_signer()
    except SigningConfigurationError as error:
        return [str(error)]
    return []


def _timestamper():
    from pyhanko.sign import timestamps

    url = settings.PORTAL_CERTIFICATE_TSA_URL
    return timestamps.HTTPTimeStamper(url) if url else None


def signing_issuer() -> dict[str, str]:
    """The issuing organisation of the default site, named in the signature
    (read once per bulk chunk: a signature needs no queries of its own)."""
    from wagtail.models import Site

    from portal.models import SiteSettings

    site = Site.objects.filter(is_default_site=True).first()
    site_settings = SiteSettings.for_site(site) if site else SiteSettings()
    contact = ", ".join(
        value for value in (site_settings.phone, site_settings.email) if value
    )
    return {
        "organisation": site_settings.organisation,
        "location": site_settings.address or site_settings.organisation,
        "contact": contact,
    }


def sign_pdf(
    pdf: bytes, *, signer: SimpleSigner, issuer: dict[str, str] | None = None
) -> bytes:
    """The PDF with one PAdES B-B signature that certifies it unchanged.

    ``issuer`` (organisation, location, contact) defaults to the default
    site's settings. Pure: the same input signed twice gives two valid files
    (the signing time differs).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    issuer = issuer or signing_issuer()
    # In the portal's language (Chinese), whatever the worker's request was.
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Certificate issued by %(organisation)s") % {
            "organisation": issuer["organisation"]
        }
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=issuer["location"] or None,
        contact_info=issuer["contact"] or None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    timestamper = _timestamper()
    output = signers.sign_pdf(
        writer,
        metadata,
        signer=signer,
        timestamper=timestamper,
        # A timestamp token's size is the server's: let pyHanko measure it.
        bytes_reserved=None if timestamper else getattr(signer, "bytes_reserved", None),
    )
    return output.getvalue()


def check_signing_configuration(app_configs, **kwargs):
    """System check courses.E101: a configured key must be usable.

    Runs with ``manage.py check``, ``migrate`` and ``runserver``; the Celery
    worker runs it when it starts (``refuse_to_start_misconfigured``).
    """
    from django.core import checks

    return [
        checks.Error(
            message,
            hint=_("See docs/configuration.md, “Certificate signing”."),
            id="courses.E101",
        )
        for message in signing_errors()
    ]


def refuse_to_start_misconfigured(**kwargs: object) -> None:
    """Celery's worker_init: stop the worker rather than fail every render."""
    errors = signing_errors()
    if errors:
        raise SigningConfigurationError(" ".join(errors))
