"""Local webhook receivers for the tests: a carrier's endpoint that verifies with the carriers'
own libraries (Stripe's and Standard Webhooks'), a receiver that drips bytes, a TLS endpoint."""
from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from carriers import webhooks


def verified_by_libraries(*, secret: str, raw: bytes, headers: dict) -> bool:
    """Both libraries a carrier would use accept the request (5-minute tolerance)."""
    try:
        stripe.WebhookSignature.verify_header(raw, headers.get(webhooks.SIGNATURE_HEADER), secret, tolerance=300)
        Webhook(secret).verify(raw, headers)
    except (stripe.SignatureVerificationError, WebhookVerificationError, ValueError):
        return False
    return True


@pytest.fixture
def local_receivers(settings):
    """Let deliveries reach plain-http receivers on loopback: test-only settings, off by default."""
    settings.YINZUNDA_WEBHOOK_ALLOW_HTTP = True
    settings.YINZUNDA_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    return settings


class CarrierEndpoint:
    """What a carrier runs: records each request, answers `status` (or `script` first)."""

    def __init__(self, secret: str = "", *, tls: tuple[str, str] | None = None, delay: float = 0) -> None:
        self.secret = secret
        self.received: list[dict] = []
        self.status = 200
        self.script: list[int] = []
        self.answer_body = b""
        self.in_flight = 0
        self.max_in_flight = 0
        self.on_request = None  # called in the handler thread, before answering
        lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                with lock:
                    endpoint.in_flight += 1
                    endpoint.max_in_flight = max(endpoint.max_in_flight, endpoint.in_flight)
                try:
                    raw = self.rfile.read(int(self.headers["Content-Length"]))
                    headers = dict(self.headers.items())
                    endpoint.received.append({
                        "body": json.loads(raw), "raw": raw, "headers": headers,
                        "valid": verified_by_libraries(secret=endpoint.secret, raw=raw, headers=headers)
                        if endpoint.secret else None,
                        "sni": getattr(self.connection, "sni", None),
                    })
                    if endpoint.on_request:
                        endpoint.on_request()
                    if delay:
                        time.sleep(delay)
                    status = endpoint.script.pop(0) if endpoint.script else endpoint.status
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(endpoint.answer_body or (b"ok" if status < 300 else b"down for maintenance"))
                finally:
                    with lock:
                        endpoint.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)

            def remember_sni(sock, server_name, _context):
                sock.sni = server_name  # read back by the handler through self.connection

            context.sni_callback = remember_sni
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.port = self.server.server_port
        self.url = f"{scheme}://127.0.0.1:{self.port}/yinzunda/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class DrippingReceiver:
    """Accepts, then sends one byte of an answer every `every` seconds: never a complete answer."""

    def __init__(self, every: float = 3.0) -> None:
        self.every = every
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.stop = threading.Event()
        self.bytes_sent = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000
        with conn:
            for byte in answer:
                if self.stop.wait(self.every):
                    return
                try:
                    conn.sendall(bytes([byte]))
                    self.bytes_sent += 1
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def self_signed_certificate(directory: Path, hostname: str) -> tuple[str, str]:
    """A certificate for `hostname` (also the CA bundle the platform is told to trust)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={hostname}",
         "-addext", f"subjectAltName=DNS:{hostname}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return str(cert), str(key)
