"""Pages map a domain refusal once: `NotFound` is the 404 page, any other `DomainError` its status and message.

The carrier API maps the same errors in its DRF exception handler (carriers/api/exceptions.py).
"""
from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import DomainError, NotFound


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        if isinstance(exception, DomainError):
            return render(request, "domain_error.html", {"error": exception}, status=exception.http_status)
        return None
