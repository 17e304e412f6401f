"""One error body for the whole API: `{"error": {"code", "message", "fields"}}`, mapped once."""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from yinzunda.errors import DomainError

logger = logging.getLogger(__name__)

# Stable codes for DRF's own exceptions; messages stay human and may be translated.
_DRF_CODES: dict[type, str] = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "not_found",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as dotted paths: `evidence.0.url` → ["..."]."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for k, v in flatten_fields(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                for k, v in flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF EXCEPTION_HANDLER: every refusal, ours or DRF's, in the one error shape."""
    if isinstance(exc, DomainError):
        set_rollback()
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response(error_body(exc.code, exc.message, fields), status=exc.http_status)
    if isinstance(exc, Http404 | PermissionDenied | exceptions.PermissionDenied):
        # Anything not yours is simply not there (DESIGN §5.4).
        exc = exceptions.NotFound(_("资源不存在。"))
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), exc.default_code)
        if isinstance(exc, exceptions.ValidationError):
            fields = flatten_fields(exc.detail)
            message = _("请求参数有误，请检查 fields 中列出的字段。")
        else:
            fields = {}
            message = str(exc.detail) if not isinstance(exc.detail, dict | list) else _("请求有误。")
        if isinstance(exc, exceptions.Throttled):
            message = _("请求过于频繁，请在 %(s)d 秒后重试。") % {"s": int(exc.wait or 0) + 1}
        if isinstance(exc, exceptions.ParseError):  # DRF's text names the JSON decoder's position in English
            message = _("请求体不是合法的 JSON：%(detail)s") % {"detail": exc.detail}
        return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)
    if isinstance(exc, OperationalError | InterfaceError):  # the database away: retry, not a 500
        logger.error("database unavailable in carrier API: %s", exc)
        return Response(error_body("service_unavailable", _("服务暂时不可用，请稍后重试")),
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    logger.exception("Unhandled error in carrier API", exc_info=exc)
    set_rollback()
    return Response(
        error_body("server_error", _("服务器内部错误，请稍后重试。")), status=status.HTTP_500_INTERNAL_SERVER_ERROR
    )


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> HttpResponse:
    """Unknown paths under /api/ answer in the API's error shape, not Django's HTML page.

    This catch-all matches everything, so Django's APPEND_SLASH never fires here: the two
    human-facing pages get their redirect by hand.
    """
    if request.method == "GET" and request.path in ("/api/schema", "/api/docs"):
        return HttpResponseRedirect(request.path + "/")
    return JsonResponse(error_body("not_found", _("资源不存在。")), status=404)
