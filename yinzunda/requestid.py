"""Request ids: honoured from `X-Request-ID` (when well-formed) or made up, echoed on every
response, carried by every log line (and into outbox rows, so a task logs the request that
caused it)."""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

from . import metrics

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("yinzunda.request")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _current.get()


@contextlib.contextmanager
def request_id_bound(request_id: str):
    token = _current.set(request_id or "")
    try:
        yield
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """First in the chain: every answer, even an error page, carries the id; one access log line
    and the request metrics per request."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _VALID.match(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            method = request.method if request.method in _METHODS else "other"  # bounded label values
            metrics.REQUESTS.labels(method, str(response.status_code)).inc()
            metrics.REQUEST_SECONDS.labels(method).observe(elapsed)
            access_log.info(
                "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000,
                extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
            )
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _current.get() or None,
        }
        for extra in ("status", "duration_ms"):
            if hasattr(record, extra):
                entry[extra] = getattr(record, extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
