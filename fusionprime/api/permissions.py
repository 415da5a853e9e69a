from rest_framework import exceptions, permissions

from fusionprime.api.models import ApiKey


class HasRequiredScopes(permissions.BasePermission):
    """Each API view names the scope each HTTP method needs in `required_scopes`."""

    def has_permission(self, request, view):
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated("An API key is required: 'Authorization: Bearer <api key>'.")
        if not hasattr(view, request.method.lower()):
            return True  # let the view answer 405
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None:
            return request.method in ("OPTIONS", "HEAD")
        if needed not in api_key.scopes:
            raise exceptions.PermissionDenied(f"This API key lacks the '{needed}' scope.", code="insufficient_scope")
        return True
