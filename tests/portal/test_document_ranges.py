"""Lesson videos can be sought: Wagtail's document view answers a byte range
with 206 Partial Content (portal/document_ranges.py), after the access checks."""

import pytest

from django.core.files.base import ContentFile
from django.http import Http404

from wagtail import hooks
from wagtail.documents.models import Document

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 4  # 1024 bytes, each position recognisable


@pytest.fixture
def document():  # type: ignore[no-untyped-def]
    doc = Document(title="讲座录像")
    doc.file.save("lecture.webm", ContentFile(CONTENT), save=False)
    doc.save()
    return doc


def fetch(client, document, **headers):  # type: ignore[no-untyped-def]
    response = client.get(document.url, headers=headers)
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return response, body


def test_a_range_is_answered_with_those_bytes_only(client, document):
    response, body = fetch(client, document, Range="bytes=100-199")
    assert response.status_code == 206
    assert body == CONTENT[100:200]
    assert response["Content-Range"] == "bytes 100-199/1024"
    assert response["Content-Length"] == "100"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/webm"


def test_an_open_range_and_a_suffix_range(client, document):
    response, body = fetch(client, document, Range="bytes=1000-")
    assert (response.status_code, body) == (206, CONTENT[1000:])
    response, body = fetch(client, document, Range="bytes=-24")
    assert (response.status_code, body) == (206, CONTENT[-24:])
    # A range running past the end stops at the end.
    response, body = fetch(client, document, Range="bytes=1020-5000")
    assert (
        response["Content-Range"] == "bytes 1020-1023/1024" and body == CONTENT[1020:]
    )


def test_a_range_past_the_end_is_not_satisfiable(client, document):
    response, _body = fetch(client, document, Range="bytes=2048-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1024"


@pytest.mark.parametrize(
    "header", [None, "bytes=0-1,5-9", "items=0-9", "bytes=9-2", "bytes=-"]
)
def test_anything_else_gets_the_whole_file(client, document, header):
    response, body = fetch(client, document, **({"Range": header} if header else {}))
    assert response.status_code == 200
    assert body == CONTENT


def test_the_access_checks_run_first(client, document):
    def refuse(doc, request):  # type: ignore[no-untyped-def]
        raise Http404

    with hooks.register_temporarily("before_serve_document", refuse):
        response, body = fetch(client, document, Range="bytes=0-99")
    assert response.status_code == 404
    assert CONTENT[:100] not in body


def test_a_large_range_is_answered_in_parts(client, document, monkeypatch):
    from portal import document_ranges

    monkeypatch.setattr(document_ranges, "MAX_PART", 300)
    response, body = fetch(client, document, Range="bytes=0-")
    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 0-299/1024" and body == CONTENT[:300]
    response, body = fetch(client, document, Range="bytes=300-")
    assert response["Content-Range"] == "bytes 300-599/1024"
    assert body == CONTENT[300:600]
