import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fusionprime.settings.local")

app = Celery("fusionprime")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["fusionprime.events", "fusionprime.api"])
