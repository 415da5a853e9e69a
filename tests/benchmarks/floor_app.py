"""bench_api's floors: the baseline's own SQL served over HTTP by gunicorn (production config), once
from a bare WSGI callable and once from a Django view behind the project's middleware.

They bound what any settlement-create endpoint on this stack can reach: the bare one pays only for
HTTP and JSON, the Django one adds the framework and our middleware (request ids, JSON logs), and
neither authenticates, validates, checks limits or renders through DRF.
"""

import json
import os
import threading
import uuid

import psycopg
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from tests.benchmarks.bench_api import SQL_CLAIM, SQL_COMPLETE, SQL_EVENT, SQL_SETTLEMENT

_local = threading.local()


def _writes(body: bytes, execute, atomic) -> bytes:
    """The baseline's statements (bench_api._sql_worker) for one request body; the response body."""
    request = json.loads(body)
    ident = uuid.uuid4().hex
    key_id = os.environ["BENCH_FLOOR_API_KEY_ID"]
    with atomic():
        execute("SET LOCAL synchronous_commit TO OFF")
        execute(SQL_CLAIM, (key_id, ident, ident))
    with atomic():
        execute(SQL_SETTLEMENT, (f"stl_{ident[:26]}", request["reference"]))
        execute(SQL_EVENT, (f"evt_{ident[:26]}", f"stl_{ident[:26]}", json.dumps({"amount": request["amount"]})))
        response = json.dumps({"id": f"stl_{ident[:26]}", "reference": request["reference"]}).encode()
        execute(SQL_COMPLETE, (response, key_id, ident))
    return response


def bare(environ, start_response):
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    response = _writes(body, conn.execute, conn.transaction)
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(response)))])
    return [response]


def _view(request):
    from django.db import connection, transaction
    from django.http import HttpResponse

    with connection.cursor() as cursor:
        response = _writes(request.body, cursor.execute, transaction.atomic)
    return HttpResponse(response, status=201, content_type="application/json")


urlpatterns = [path("v1/settlements", csrf_exempt(_view))]


def _django_app():
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = __name__  # every request resolves against this module's one route
    return application


django = _django_app() if os.environ.get("BENCH_FLOOR") == "django" else None
