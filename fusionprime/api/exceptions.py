"""Every API error as one shape: RFC 9457 `application/problem+json` with a stable `code`."""

import logging

import sentry_sdk
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response

from fusionprime.errors import DomainError
from fusionprime.observability import request_id_var

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
ERROR_DOCS = "https://docs.fusionprime.dev/errors/"

# DRF's default codes mapped to the names integrators see.
_DRF_CODES = {
    "parse_error": "malformed_json",
    "not_authenticated": "authentication_required",
    "authentication_failed": "invalid_api_key",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "rate_limited",
}


def problem(*, status_code: int, code: str, title: str, detail: str, param: str | None = None, **extra) -> dict:
    body = {
        "type": ERROR_DOCS + code,
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
    }
    if param:
        body["param"] = param
    body.update(extra)
    return body


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested {field: [errors]} → [{param, code, detail}] with dotted field names."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            out.extend(_flatten(value, f"{prefix}[{index}]" if nested else prefix))
        return out
    return [{"param": prefix or None, "code": getattr(detail, "code", "invalid"), "detail": str(detail)}]


def _problem_for(exc) -> tuple[dict, dict]:
    """Returns (body, extra headers)."""
    headers: dict = {}
    if isinstance(exc, DomainError):
        return problem(
            status_code=exc.status, code=exc.code, title=exc.title, detail=exc.detail, param=exc.param, **exc.extra
        ), headers
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return problem(
            status_code=413,
            code="payload_too_large",
            title="Payload too large",
            detail="The request body is too large.",
        ), headers
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = errors[0] if errors else {"param": None, "code": "invalid", "detail": "Invalid request."}
        return problem(
            status_code=400,
            code=first["code"] if first["code"] != "invalid" else "validation_error",
            title="Invalid request",
            detail=first["detail"] if not first["param"] else f"{first['param']}: {first['detail']}",
            param=first["param"],
            errors=errors,
        ), headers
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait) + 1)
        default = exc.default_code
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else default
        code = _DRF_CODES.get(code, code)
        return problem(
            status_code=exc.status_code, code=code, title=str(exc.default_detail).rstrip("."), detail=str(exc.detail)
        ), headers
    logger.exception("api.unhandled_error")
    sentry_sdk.capture_exception(exc)  # a no-op unless SENTRY_DSN switched Sentry on
    return problem(
        status_code=500,
        code="internal_error",
        title="Internal server error",
        detail="Something went wrong on our side.",
    ), headers


def problem_exception_handler(exc, context) -> Response:
    body, headers = _problem_for(exc)
    if getattr(exc, "auth_header", None) is None and body["status"] == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_json_response(status_code: int, code: str, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status_code=status_code, code=code, title=title, detail=detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _is_api(request) -> bool:
    return not request.path.startswith("/admin/")


def handler404(request, exception=None):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return problem_json_response(404, "not_found", "Not found", "No resource at this URL.")


def handler500(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return problem_json_response(500, "internal_error", "Internal server error", "Something went wrong on our side.")


def handler400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return problem_json_response(413, "payload_too_large", "Payload too large", "The request body is too large.")
    return problem_json_response(400, "bad_request", "Bad request", "The request could not be understood.")


def handler403(request, exception=None):
    return problem_json_response(403, "forbidden", "Forbidden", "You may not do this.")
