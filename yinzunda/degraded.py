"""The database away (a restart, a failover): a 503 with Retry-After that a client can retry,
never a 500. The carrier API gets its usual error shape; pages get a short plain answer."""
from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger("yinzunda.degraded")
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        message = _("服务暂时不可用，请稍后重试")
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"error": {"code": "service_unavailable", "message": message, "fields": {}}}, status=503,
                json_dumps_params={"ensure_ascii": False},
            )
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
