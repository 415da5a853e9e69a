"""Publishes the event schemas to integrators at /v1/schemas/<name>.json (no API key needed)."""

import json

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from fusionprime.events import schemas


@require_GET
def schema_detail(request, name: str):
    if name == "index":
        base = request.build_absolute_uri("/v1/schemas/")
        return JsonResponse(
            {
                "envelope": f"{base}{schemas.ENVELOPE}.json",
                "event_types": {t: f"{base}{t}.json" for t in schemas.event_types()},
                "schemas": [f"{base}{n}.json" for n in schemas.schema_names()],
            }
        )
    try:
        document = schemas.schema_document(name)
    except KeyError:
        raise Http404(f"No schema named '{name}'.") from None
    response = HttpResponse(json.dumps(document, indent=2), content_type="application/schema+json")
    response["Cache-Control"] = "public, max-age=300"
    return response
