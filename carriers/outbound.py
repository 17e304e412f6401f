"""Outbound HTTP safety: which webhook URLs are allowed, and a POST that connects only to a vetted
public address (resolved once: no DNS rebinding) within one hard deadline for the whole exchange.

DESIGN §5 invariant 9: no outbound URL may point at the platform's own network. A URL is checked
when it is saved (`validate_webhook_url`, the model field's validator) and again at every
delivery after resolution, and the connection goes to the address that was vetted, with the
original host name kept in the `Host` header and in TLS (SNI and certificate check).
"""
from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from urllib3.connection import HTTPConnection, HTTPSConnection

EXCERPT_CHARS = 200  # all of an answer body the platform keeps or shows (admin, attempt log)
_READ_BYTES = 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundBlocked(Exception):
    """The URL or one of the addresses it resolves to is not allowed; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (IDNA-encoded), for Host and SNI
    port: int
    path: str  # path and query


def _allowed_networks() -> list:
    return [ipaddress.ip_network(net) for net in settings.YINZUNDA_WEBHOOK_ALLOWED_NETWORKS]


def address_is_public(address: str) -> bool:
    """Globally routable unicast, also when wrapped in IPv4-mapped, 6to4, Teredo or NAT64 forms."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in net for net in _allowed_networks()):
        return True  # a test-only escape for local receivers; empty in every real deployment
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not address_is_public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def target_parse(url: str) -> Target:
    """The static checks: https, a host, no credentials, a valid port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundBlocked(_("回调地址格式无效。")) from None
    allowed = {"https", "http"} if settings.YINZUNDA_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise OutboundBlocked(_("回调地址必须使用 https。"))
    if not parts.hostname:
        raise OutboundBlocked(_("回调地址缺少主机名。"))
    if parts.username is not None or parts.password is not None:
        raise OutboundBlocked(_("回调地址不能包含用户名或密码。"))
    try:
        host = parts.hostname.encode("idna").decode("ascii") if not _is_literal(parts.hostname) else parts.hostname
    except UnicodeError:
        raise OutboundBlocked(_("回调地址的主机名无效。")) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def addresses_resolve(target: Target, *, timeout: float | None = None) -> list[str]:
    """Every address the host resolves to, each one public, else `OutboundBlocked`.

    One private address among public ones refuses the whole name: the connection must never
    be able to land on it. With `timeout`, resolution runs in a helper thread so that a slow
    resolver counts against the delivery's deadline."""
    result: dict = {}

    def resolve() -> None:
        try:
            result["addresses"] = _getaddrinfo(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            result["error"] = exc

    if timeout is None:
        resolve()
    else:
        worker = threading.Thread(target=resolve, daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise OutboundBlocked(_("解析 %(host)s 超时。") % {"host": target.host})
    if "error" in result or not result.get("addresses"):
        raise OutboundBlocked(_("无法解析主机名 %(host)s。") % {"host": target.host})
    addresses = result["addresses"]
    blocked = [a for a in addresses if not address_is_public(a)]
    if blocked:
        raise OutboundBlocked(
            _("回调地址指向内部或保留地址（%(addr)s），只允许公网地址。") % {"addr": ", ".join(blocked[:3])}
        )
    return addresses


def validate_webhook_url(value: str) -> None:
    """Model/form validator: https and public addresses only, checked when the URL is saved."""
    if not value:
        return
    try:
        addresses_resolve(target_parse(value), timeout=5)
    except OutboundBlocked as exc:
        raise ValidationError(exc.message, code="unsafe_webhook_url") from None


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    excerpt: str  # at most EXCERPT_CHARS of the body, control characters removed
    error: str
    duration_ms: int


class _Watchdog:
    """Shuts the socket down when the deadline passes, whatever phase (TLS, send, read) is blocked."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self.fired:
                self._shutdown()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            # the plain socket's shutdown, also under TLS: the blocked recv/send returns at once
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _connection_class(base):
    class Watched(base):
        watchdog: _Watchdog

        def _new_conn(self):
            sock = super()._new_conn()
            self.watchdog.watch(sock)
            return sock

    return Watched


_WatchedHTTP = _connection_class(HTTPConnection)
_WatchedHTTPS = _connection_class(HTTPSConnection)


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return "".join(ch if ch.isprintable() else " " for ch in text)[:EXCERPT_CHARS]


def _open(target: Target, address: str, watchdog: _Watchdog):
    connect_timeout = min(settings.YINZUNDA_WEBHOOK_CONNECT_TIMEOUT_SECONDS, watchdog.remaining())
    if target.scheme == "https":
        conn = _WatchedHTTPS(
            address, target.port, timeout=connect_timeout, server_hostname=target.host,
            assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
            ca_certs=settings.YINZUNDA_WEBHOOK_CA_BUNDLE or certifi.where(),
        )
    else:
        conn = _WatchedHTTP(address, target.port, timeout=connect_timeout)
    conn.watchdog = watchdog
    conn.connect()
    conn.sock.settimeout(watchdog.remaining())
    return conn


def post(*, url: str, body: bytes, headers: dict[str, str], deadline_seconds: float) -> Answer:
    """POST `body`; connect, TLS, send and read all end within `deadline_seconds`.

    Never raises for network trouble: the answer carries the status or the error."""
    started = time.monotonic()
    watchdog = _Watchdog(deadline_seconds)

    def answer(status: int | None, excerpt: str = "", error: str = "") -> Answer:
        watchdog.cancel()
        return Answer(status, excerpt, error[:EXCERPT_CHARS], int((time.monotonic() - started) * 1000))

    try:
        target = target_parse(url)
        addresses = addresses_resolve(target, timeout=watchdog.remaining())
    except OutboundBlocked as exc:
        return answer(None, error=f"Blocked: {exc.message}")
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" if target.port in (80, 443) else f"[{target.host}]:{target.port}"
    conn = None
    try:
        for index, address in enumerate(addresses):
            try:
                conn = _open(target, address, watchdog)
                break
            except Exception:  # refused, unreachable, TLS: the next vetted address, if any
                if index == len(addresses) - 1 or watchdog.fired:
                    raise
        conn.request("POST", target.path, body=body, headers={**headers, "Host": host_header}, preload_content=False)
        response = conn.getresponse()
        raw = response.read(_READ_BYTES, decode_content=False) if response.status >= 300 else b""
        return answer(response.status, _excerpt(raw))
    except Exception as exc:  # noqa: BLE001 - any failure of the exchange is an attempt's error
        if watchdog.fired:
            return answer(None, error=f"Timeout: no complete answer within {deadline_seconds:g} s")
        return answer(None, error=f"{type(exc).__name__}: {exc}")
    finally:
        if conn is not None:
            conn.close()
