"""Outbound HTTP to subscribers, safe against SSRF.

The host is resolved here, every resolved address is vetted, and the connection goes to the vetted
address (Host header, TLS SNI and certificate checks still use the host name), so a DNS answer that
changes between check and connect (rebinding) cannot redirect us. Redirects are never followed.
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter

# Beyond what `is_global` already refuses: ranges that embed or translate to other addresses.
_ALWAYS_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "169.254.0.0/16",  # link-local, incl. cloud metadata 169.254.169.254
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved + broadcast
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4 embeds an IPv4 address
        "2001::/32",  # Teredo embeds one too
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
]


class TransportError(Exception):
    error_class = "connect"


class BlockedAddress(TransportError):
    error_class = "ssrf_blocked"


class DnsError(TransportError):
    error_class = "dns"


class InvalidUrl(TransportError):
    error_class = "invalid_url"


def ip_blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    for net in _ALWAYS_BLOCKED:
        if ip.version == net.version and ip in net:
            return f"{ip} is in the blocked range {net}"
    for attr in ("is_loopback", "is_private", "is_link_local", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(ip, attr):
            return f"{ip} is {attr.removeprefix('is_').replace('_', '-')}"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


@cache
def _allowlist(entries: tuple[str, ...]):
    nets, hosts = [], set()
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return nets, frozenset(hosts)


def _allowed(host: str, ip) -> bool:
    nets, hosts = _allowlist(tuple(settings.WEBHOOKS_ALLOWLIST))
    if host.lower().rstrip(".") in hosts:
        return True
    return any(ip.version == net.version and ip in net for net in nets)


def vet_ip(host: str, ip) -> None:
    reason = ip_blocked_reason(ip)
    if reason and not _allowed(host, ip):
        raise BlockedAddress(f"Refused {host}: {reason} (not on WEBHOOKS_ALLOWLIST).")


def resolve(host: str, port: int) -> list[str]:
    """All addresses of a host. A module function so tests can stand in a DNS answer."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DnsError(f"Cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def _literal_ip(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or InvalidUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"Not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    allowed = ("https",) if settings.WEBHOOKS_REQUIRE_HTTPS else ("https", "http")
    if scheme not in allowed:
        raise InvalidUrl(f"The URL must use {' or '.join(allowed)}.")
    if not parts.hostname:
        raise InvalidUrl("The URL has no host.")
    if parts.username or parts.password:
        raise InvalidUrl("Credentials in the URL are not allowed; use custom headers.")
    if parts.fragment:
        raise InvalidUrl("The URL must not have a #fragment.")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def url_check(url: str) -> None:
    """Save-time check. A name that does not resolve yet is accepted; connect time vets it again."""
    _, host, port = parse_url(url)
    literal = _literal_ip(host)
    if literal is not None:
        vet_ip(host, literal)
        return
    try:
        addresses = resolve(host, port)
    except DnsError:
        return
    for address in addresses:
        vet_ip(host, ipaddress.ip_address(address))


def vet_host(host: str, port: int) -> str:
    """The address to connect to: every resolved address must pass, so no answer can sneak one in."""
    literal = _literal_ip(host)
    addresses = [str(literal)] if literal is not None else resolve(host, port)
    if not addresses:
        raise DnsError(f"{host} has no addresses.")
    for address in addresses:
        vet_ip(host, ipaddress.ip_address(address))
    return addresses[0]


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to `request.pinned_ip` while the URL (Host, SNI, certificate name) keeps the host name."""

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"]
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": hostname, "assert_hostname": hostname}
        return self.poolmanager.connection_from_host(
            host=request.pinned_ip, port=host_params["port"], scheme=host_params["scheme"], pool_kwargs=pool_kwargs
        )


_local = threading.local()


def _session() -> requests.Session:
    # One session per thread: keep-alive pools are reused, and no proxy from the environment applies
    # (a proxy would connect somewhere we did not vet).
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        adapter = PinnedAddressAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


@dataclass
class Response:
    started_at: float
    latency_ms: int = 0
    resolved_ip: str | None = None
    status_code: int | None = None
    headers: dict = field(default_factory=dict)
    body: str = ""
    error_class: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_class and self.status_code is not None and 200 <= self.status_code < 300


def _classify(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
            return "connection_closed"
        if "timed out" in text:
            return "timeout"
        return "connect"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection_closed"
    if isinstance(exc, requests.exceptions.RequestException):
        return "http_error"
    return "internal"


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    total_timeout: float,
    body_limit: int,
) -> Response:
    started = time.monotonic()
    result = Response(started_at=time.time())
    deadline = started + total_timeout
    try:
        scheme, host, port = parse_url(url)
        ip = vet_host(host, port)
        result.resolved_ip = ip
        default_port = 443 if scheme == "https" else 80
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host and port != default_port:
            host_header = f"[{host}]:{port}"
        session = _session()
        request = requests.Request("POST", url, data=body, headers={**headers, "Host": host_header}).prepare()
        request.pinned_ip = ip
        remaining = max(0.001, deadline - time.monotonic())
        timeout = urllib3.Timeout(connect=min(connect_timeout, remaining), read=remaining, total=remaining)
        response = session.send(request, timeout=timeout, allow_redirects=False, stream=True, verify=True)
        try:
            result.status_code = response.status_code
            result.headers = dict(response.headers)
            chunks, size = [], 0
            # Bounded read: at most body_limit bytes and never past the total deadline.
            while size < body_limit:
                if time.monotonic() > deadline:
                    raise requests.exceptions.ReadTimeout("total timeout while reading the response body")
                chunk = response.raw.read(min(8192, body_limit - size), decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            result.body = b"".join(chunks)[:body_limit].decode("utf-8", errors="replace")
        finally:
            response.close()
    except TransportError as exc:
        result.error_class, result.error_message = exc.error_class, str(exc)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the attempt, none may kill the sweep
        result.error_class, result.error_message = _classify(exc), f"{type(exc).__name__}: {exc}"
    result.latency_ms = int((time.monotonic() - started) * 1000)
    if result.status_code is not None and not result.error_class and not result.ok:
        result.error_class = f"http_{result.status_code // 100}xx"
        result.error_message = f"HTTP {result.status_code}"
    return result
