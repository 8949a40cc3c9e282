"""The client's address: the one answer every per-address limit counts on.

allauth's limits (portal/adapters.py), django-ratelimit's (RATELIMIT_IP_META_KEY
points here; portal/http.py) and therefore the talent pool's and certificate
look-ups' all ask this function, so they agree on who a visitor is.

PORTAL_TRUSTED_PROXY_COUNT says how many reverse proxies of ours stand in
front of the portal (docs/configuration.md, "The reverse proxy"). Each one
appends the address it received the request from to X-Forwarded-For, so the
N-th entry from the right was written by our outermost proxy, and everything
to its left by the client, who may write anything there.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Returned only when not even REMOTE_ADDR is an address (a misconfigured
# server, e.g. a Unix socket with no proxy count set): such requests then share
# one limit, which keeps the limits working instead of failing the request.
UNKNOWN = "0.0.0.0"


def parse_ip(value: str) -> str | None:
    """The address in `value` in canonical form, or None if it is not one.

    Accepts what proxies write: surrounding spaces, an IPv4 port
    ("192.0.2.1:4711"), a bracketed IPv6 address with or without a port
    ("[2001:db8::1]:4711"). An IPv4 address seen through a dual-stack socket
    ("::ffff:192.0.2.1") becomes plain IPv4, or every IPv4 visitor would fall
    into one IPv6 /64 rate-limit block. An IPv6 zone ("%eth0") is dropped.
    """
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request`; always an IP address.

    With PORTAL_TRUSTED_PROXY_COUNT = 0 (the default) this is REMOTE_ADDR and
    X-Forwarded-For is ignored. With N > 0 it is the N-th entry from the right
    of X-Forwarded-For; the entries further left are never read, so a forged
    header cannot move a client out of its own limit. A missing header, one
    with fewer than N entries, or an entry that is not an address means the
    request did not come through our proxies as configured: REMOTE_ADDR is used
    then (the peer really connected; it may be the proxy, whose limit such
    requests then share). Never raises on anything a client sent.
    """
    count = getattr(settings, "PORTAL_TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(forwarded) >= count:
            address = parse_ip(forwarded[-count])
            if address is not None:
                return address
    address = parse_ip(request.META.get("REMOTE_ADDR") or "")
    if address is None:
        logger.warning(
            "REMOTE_ADDR %r is not an IP address: set TRUSTED_PROXY_COUNT "
            "(docs/configuration.md)",
            request.META.get("REMOTE_ADDR"),
        )
        return UNKNOWN
    return address


#: An IPv6 client usually holds a whole /64 and may pick any address in it:
#: limits count the /64 (django-ratelimit's RATELIMIT_IPV6_MASK default too).
IPV6_PREFIX = 64


def client_key(request: HttpRequest) -> str:
    """Who a per-client budget counts: the signed-in user ("user:42"), else
    the client address ("ip:203.0.113.7", an IPv6 address as its /64). Only
    client_ip's answer and the session decide: a new User-Agent, cookie-less
    requests or a forged X-Forwarded-For entry change nothing."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    address = ipaddress.ip_address(client_ip(request))
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False)
        return f"ip:{network.network_address}/{IPV6_PREFIX}"
    return f"ip:{address}"
