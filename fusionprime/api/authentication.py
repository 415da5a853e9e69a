import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from fusionprime.api.models import ApiKey
from fusionprime.api.services import hash_secret, split_key
from fusionprime.db import raw_instances

# Runs on every request: a fixed statement skips the ORM's query compilation.
_BY_PREFIX = f"SELECT * FROM {ApiKey._meta.db_table} WHERE prefix = %s"  # noqa: S608 - a constant


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer fpk_<prefix>_<secret>`; request.user becomes the ApiKey."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme != self.keyword or not raw_key.strip():
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: Bearer <api key>'.", code="invalid_authorization"
            )
        raw_key = raw_key.strip()
        prefix = split_key(raw_key)
        api_key = next(iter(raw_instances(ApiKey, _BY_PREFIX, [prefix])), None) if prefix else None
        if api_key is None or not hmac.compare_digest(api_key.secret_hash, hash_secret(raw_key)):
            raise exceptions.AuthenticationFailed("The API key is not valid.", code="invalid_api_key")
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("The API key has been revoked.", code="api_key_revoked")
        now = timezone.now()
        # Track use without a write per request.
        if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key, api_key

    def authenticate_header(self, request):
        return self.keyword
