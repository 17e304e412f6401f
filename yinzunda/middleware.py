"""Request middleware of the portal.

Pages map a domain refusal once: `NotFound` is the 404 page, any other `DomainError` its status
and message (the carrier API maps the same errors in carriers/api/exceptions.py). An htmx request
whose session expired reloads the whole page on the login form.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url

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


class HtmxLoginRedirectMiddleware:
    """`login_required` answers an htmx request with a 302 to the login page, which htmx would
    follow and swap into the page (a login form nested inside the order table). Answer with
    `HX-Redirect` instead: htmx then loads the login page as a whole page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302):
            return response
        location = response.get("Location", "")
        if not location.split("?", 1)[0].endswith(resolve_url(settings.LOGIN_URL)):
            return response
        # Back to the page the merchant was on, not the fragment URL htmx asked for.
        current = request.headers.get("HX-Current-URL", "")
        redirect_to = location
        if current:
            parts = urlsplit(current)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            redirect_to = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': path})}"
        answer = HttpResponse(status=204)
        answer["HX-Redirect"] = redirect_to
        return answer
