"""Request ids, trace context, JSON logs and Sentry — shared by web, worker and beat."""

import contextvars
import logging
import re
import uuid

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
trace_var: contextvars.ContextVar[str] = contextvars.ContextVar("trace", default="")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CLOUD_TRACE_RE = re.compile(r"^([0-9a-f]{32})(?:/(\d+))?")
_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
# Values under these keys never reach a log line or Sentry.
SENSITIVE_KEYS = ("authorization", "api_key", "secret", "password", "token", "cookie")


class RequestIdMiddleware:
    """Accepts X-Request-ID (or makes one), exposes it to logs and returns it to the caller."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        request.trace_id = _trace_from_headers(request.headers)
        rid_token = request_id_var.set(request_id)
        trace_token = trace_var.set(request.trace_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(rid_token)
            trace_var.reset(trace_token)
        response["X-Request-ID"] = request_id
        return response


def _trace_from_headers(headers) -> str:
    if match := _CLOUD_TRACE_RE.match(headers.get("X-Cloud-Trace-Context", "")):
        return match.group(1)
    if match := _TRACEPARENT_RE.match(headers.get("traceparent", "")):
        return match.group(1)
    return ""


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs after the middleware returned; its record carries the request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        trace = getattr(request, "trace_id", None) or trace_var.get()
        if trace:
            from django.conf import settings

            project = getattr(settings, "GCP_PROJECT_ID", "") or "-"
            # Cloud Logging joins log lines to traces through this field.
            record.__dict__["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace}"
        return True


def scrub(value):
    """Replaces values of sensitive keys, recursively, so secrets never reach logs or Sentry."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if any(s in str(k).lower() for s in SENSITIVE_KEYS) else scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "severity", "asctime": "time"})
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_record):
        return scrub(super().process_log_record(log_record))


def _before_send(event, hint):
    request = event.get("request") or {}
    for key in ("headers", "cookies", "data"):
        if key in request:
            request[key] = scrub(request[key])
    return event


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        # No send_default_pii (deprecated): left unset, the SDK collects no PII (data_collection derived from False).
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_before_send,
    )
    return True
