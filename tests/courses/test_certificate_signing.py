"""Signed certificates: what a PDF reader (or an auditor with pyHanko) sees.

A throwaway self-signed key and certificate stand in for the issuing
organisation's; the validation context trusts exactly that certificate.
"""

import datetime
import io
import subprocess
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from django.core import checks

from courses.certificates import services, signing
from courses.models import Certificate
from portal.mail import fields_to_message
from portal.models import OutgoingEmail
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSPHRASE = "证书签名口令-2027"


def _key_and_certificate() -> tuple:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "重庆市知识产权局"),
            x509.NameAttribute(NameOID.COMMON_NAME, "证书签发（测试）"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


@pytest.fixture(scope="module")
def key_material():
    return _key_and_certificate()


@pytest.fixture
def signing_files(tmp_path, key_material, settings):
    """A passphrase-protected PEM key and its certificate, in the settings."""
    key, certificate = key_material
    key_path, cert_path = tmp_path / "signing.key", tmp_path / "signing.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    settings.PORTAL_CERTIFICATE_SIGNING_KEY = str(key_path)
    settings.PORTAL_CERTIFICATE_SIGNING_CERT = str(cert_path)
    settings.PORTAL_CERTIFICATE_SIGNING_PASSPHRASE = PASSPHRASE
    signing.configured_signer.cache_clear()
    yield {"key": key_path, "cert": cert_path}
    signing.configured_signer.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_signer():
    signing.configured_signer.cache_clear()
    yield
    signing.configured_signer.cache_clear()


def issued_pdf(name: str = "李堃") -> tuple[Certificate, bytes]:
    """Complete-to-PDF through the services, as the worker does it."""
    request = CertificateRequestFactory(user=UserFactory(real_name=name))
    certificate, _ = services.certificate_issue(request_id=request.pk, render=False)
    services.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    with certificate.pdf.open("rb") as handle:
        return certificate, handle.read()


def validate(data: bytes, trusted_cert_path):
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    context = ValidationContext(trust_roots=[load_cert_from_pemder(trusted_cert_path)])
    (embedded,) = reader.embedded_signatures
    return embedded, validate_pdf_signature(embedded, context)


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


class TestSignedCertificates:
    def test_the_stored_pdf_carries_a_valid_pades_signature(self, signing_files):
        certificate, data = issued_pdf()
        assert certificate.signed
        embedded, status = validate(data, signing_files["cert"])
        assert embedded.field_name == signing.FIELD_NAME
        assert status.intact and status.valid and status.trusted
        assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        assert status.bottom_line
        # PAdES (ETSI.CAdES.detached) with SHA-256, certifying "no changes".
        assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        assert status.md_algorithm == "sha256"
        assert embedded.docmdp_level is not None
        assert embedded.sig_object["/Reason"] == "由重庆市知识产权局签发的证书"
        # The learner still sees their name, and the e-mail has the signed file.
        assert "李堃" in pdf_text(data)
        mail = OutgoingEmail.objects.get()
        assert fields_to_message(mail).attachments[0][1] == data

    def test_each_of_a_run_of_certificates_carries_its_own_valid_signature(
        self, signing_files
    ):
        # One worker signs a whole class with one signer: the parts of the
        # signature it keeps between certificates must still name the signing
        # certificate, and each PDF's digest and signature must be its own.
        signatures = set()
        for name in ("李堃", "王喆堃", "赵𪚥"):
            _, data = issued_pdf(name)
            embedded, status = validate(data, signing_files["cert"])
            assert status.intact and status.valid and status.trusted
            assert status.bottom_line
            assert (
                embedded.signer_cert.dump()
                == load_cert_from_pemder(signing_files["cert"]).dump()
            )
            signatures.add(embedded.signer_info["signature"].native)
        assert len(signatures) == 3

    def test_a_changed_byte_in_the_page_shows_as_tampered(self, signing_files):
        _, data = issued_pdf()
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        page = reader.root["/Pages"]["/Kids"][0].get_object()
        contents = page["/Contents"]
        stream = (contents[0] if isinstance(contents, list) else contents).get_object()
        raw = stream.encoded_data
        assert zlib.decompress(raw)  # the visible page: text and drawing
        start = data.index(raw)
        tampered = bytearray(data)
        tampered[start + len(raw) // 2] ^= 0xFF
        _, status = validate(bytes(tampered), signing_files["cert"])
        assert not status.intact
        assert not status.bottom_line

    def test_a_later_revision_changing_the_page_shows_as_modified(self, signing_files):
        _, data = issued_pdf()
        # A forger appends a revision that paints over the page: the signed
        # revision is intact, but the file is no longer what was signed.
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        cover = generic.StreamObject(stream_data=b"q 1 1 1 rg 0 0 842 595 re f Q BT ET")
        writer.add_stream_to_page(0, writer.add_object(cover))
        output = io.BytesIO()
        writer.write(output)
        _, status = validate(output.getvalue(), signing_files["cert"])
        assert status.intact and status.valid
        assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        assert not status.docmdp_ok
        assert not status.bottom_line

    def test_without_a_key_the_pdf_is_not_signed(self):
        certificate, data = issued_pdf()
        assert signing.configured_signer() is None
        assert not certificate.signed
        assert not PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures

    def test_a_pkcs12_file_works_too(self, tmp_path, key_material, settings):
        key, certificate = key_material
        path = tmp_path / "signing.p12"
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"portal",
                key,
                certificate,
                None,
                serialization.BestAvailableEncryption(PASSPHRASE.encode()),
            )
        )
        cert_path = tmp_path / "signing.crt"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        settings.PORTAL_CERTIFICATE_SIGNING_PKCS12 = str(path)
        settings.PORTAL_CERTIFICATE_SIGNING_PASSPHRASE = PASSPHRASE
        stored, data = issued_pdf()
        assert stored.signed
        assert validate(data, cert_path)[1].bottom_line


class TestMisconfiguredKeyStopsTheStartUp:
    """The system check names the problem; no task is left to fail later."""

    def errors(self) -> list[str]:
        return [
            error.msg for error in checks.run_checks() if error.id == "courses.E101"
        ]

    def test_a_missing_key_file(self, signing_files, settings):
        settings.PORTAL_CERTIFICATE_SIGNING_KEY = str(signing_files["key"]) + ".gone"
        (message,) = self.errors()
        assert "PORTAL_CERTIFICATE_SIGNING_KEY" in message
        assert "signing.key.gone" in message

    def test_a_wrong_passphrase(self, signing_files, settings):
        settings.PORTAL_CERTIFICATE_SIGNING_PASSPHRASE = "wrong"
        (message,) = self.errors()
        assert "PORTAL_CERTIFICATE_SIGNING_PASSPHRASE" in message

    def test_a_key_of_another_certificate(self, signing_files, tmp_path):
        other, _ = _key_and_certificate()
        signing_files["key"].write_bytes(
            other.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(PASSPHRASE.encode()),
            )
        )
        (message,) = self.errors()
        assert "PORTAL_CERTIFICATE_SIGNING_CERT" in message

    def test_a_key_without_its_certificate(self, signing_files, settings):
        settings.PORTAL_CERTIFICATE_SIGNING_CERT = ""
        (message,) = self.errors()
        assert "PORTAL_CERTIFICATE_SIGNING_CERT" in message

    def test_a_good_configuration_and_none_pass(self, signing_files, settings):
        assert self.errors() == []
        settings.PORTAL_CERTIFICATE_SIGNING_KEY = ""
        settings.PORTAL_CERTIFICATE_SIGNING_CERT = ""
        assert self.errors() == []

    def test_the_worker_refuses_to_start(self, signing_files, settings):
        settings.PORTAL_CERTIFICATE_SIGNING_PASSPHRASE = ""
        with pytest.raises(signing.SigningConfigurationError):
            signing.refuse_to_start_misconfigured()
