"""Contact details written into free text: found, shown to reviewers, hidden
from the public.

An expert's phone and e-mail are disclosed only through an accepted contact
request (docs/decisions.md, decision 3). A biography or an organisation's
name is free text, though, and may carry them anyway: "电话 138 0013 8000",
"zhang@lawfirm.cn", "微信 zhanglawyer88", "QQ 123456789", a firm's web
address. `contact_details_in` finds them (full-width digits and letters, the
usual separators, "(at)"/"[dot]" spellings included); public pages, the API
and the search index show the text `without_contact_details`; the review
screen shows it `highlighted`.

The rules aim at what a reader could dial, write to or add: a mobile number
(11 digits from 13–19, maybe +86), a landline with its area code (0…), a
400/800 number, a number after 电话/手机/tel, e-mail addresses, WeChat ids and
QQ numbers after their names, and web addresses. Years, amounts and licence
numbers (17 or 18 digits) are left alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

_LOCAL = r"[A-Za-z0-9._%+-]+"
_LABEL = r"[A-Za-z0-9-]+"
_OPEN, _CLOSE = r"[\(\[（【<]\s*", r"\s*[\)\]）】>]"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "email",
        re.compile(
            rf"{_LOCAL}\s*(?:@|{_OPEN}(?:at|艾特|@){_CLOSE})\s*{_LABEL}"
            rf"(?:\s*(?:\.|{_OPEN}(?:dot|点|\.){_CLOSE})\s*{_LABEL})+",
            re.IGNORECASE,
        ),
    ),
    (
        "url",
        re.compile(
            r"(?:https?://|www\.)[^\s，。；、）)\]】<>\"']+"
            r"|(?<![@\w.-])(?:[A-Za-z0-9-]+\.)+"
            r"(?:com|cn|net|org|top|xyz|info|biz|cc|co|io|me|law)"
            r"(?:\.cn)?(?:/[^\s，。；、）)\]】<>\"']*)?(?![\w.-])",
            re.IGNORECASE,
        ),
    ),
    (
        "wechat",
        re.compile(
            r"(?:微信|威信|薇信|v信|vx|wx|weixin|wechat)\s*(?:号|id)?\s*[:：]?\s*"
            r"[A-Za-z][-_A-Za-z0-9]{5,19}",
            re.IGNORECASE,
        ),
    ),
    (
        "qq",
        re.compile(r"(?:qq|扣扣)\s*(?:号|群)?\s*[:：]?\s*[1-9]\d{4,11}", re.IGNORECASE),
    ),
    (
        "phone",
        re.compile(
            # after its name: any run of digits and separators
            r"(?:电话|手机|座机|热线|联系方式|tel|phone|mobile|cell)\s*[:：]?\s*"
            r"\+?[\d(][\d\s()-]{5,}\d"
            # a mobile number, maybe with the country code
            r"|(?<!\d)(?:\+?86[\s-]*)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"
            # a landline with its area code
            r"|(?<!\d)\(?0\d{2,3}\)?[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)"
            # 400 and 800 numbers
            r"|(?<!\d)[48]00[\s-]?\d{3}[\s-]?\d{4}(?!\d)",
            re.IGNORECASE,
        ),
    ),
]


@dataclass(frozen=True)
class Found:
    """One contact detail in a text: its kind (email, url, wechat, qq,
    phone) and where it is."""

    kind: str
    start: int
    end: int


def _comparable(text: str) -> str:
    """The text with full-width letters, digits and signs as ASCII, one
    character for one, so that positions found in it hold in the text."""
    out = []
    for char in text:
        plain = unicodedata.normalize("NFKC", char)
        out.append(plain if len(plain) == 1 else char)
    return "".join(out)


def contact_details_in(text: str) -> list[Found]:
    """The contact details in `text`, in order, overlaps merged."""
    if not text:
        return []
    comparable = _comparable(text)
    spans: list[Found] = []
    for kind, rule in _RULES:
        for match in rule.finditer(comparable):
            spans.append(Found(kind, match.start(), match.end()))
    spans.sort(key=lambda found: (found.start, -found.end))
    merged: list[Found] = []
    for found in spans:
        if merged and found.start < merged[-1].end:
            last = merged[-1]
            if found.end > last.end:
                merged[-1] = Found(last.kind, last.start, found.end)
            continue
        merged.append(found)
    return merged


def contact_detail_kinds(text: str) -> list[str]:
    """The kinds of contact detail in `text`, each once, in the user's
    language (for a reviewer's or an importer's message)."""
    labels = {
        "email": _("e-mail address"),
        "url": _("web address"),
        "wechat": _("WeChat id"),
        "qq": _("QQ number"),
        "phone": _("phone number"),
    }
    kinds = dict.fromkeys(found.kind for found in contact_details_in(text))
    return [labels[kind] for kind in kinds]


def without_contact_details(text: str, *, replacement: str | None = None) -> str:
    """`text` with each contact detail replaced by `replacement`, by default
    a note (in the active language) that it is hidden."""
    found = contact_details_in(text)
    if not found:
        return text
    hidden = _("[contact details hidden]") if replacement is None else replacement
    parts, at = [], 0
    for item in found:
        parts += [text[at : item.start], hidden]
        at = item.end
    parts.append(text[at:])
    return "".join(parts)


def highlighted(text: str) -> SafeString:
    """`text` escaped, each contact detail marked (<mark>) for a reviewer."""
    parts, at = [], 0
    for item in contact_details_in(text):
        parts += [
            escape(text[at : item.start]),
            f"<mark>{escape(text[item.start : item.end])}</mark>",
        ]
        at = item.end
    parts.append(escape(text[at:]))
    return mark_safe("".join(parts))  # noqa: S308 (each part escaped above)
