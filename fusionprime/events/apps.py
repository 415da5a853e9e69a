from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "fusionprime.events"
    label = "events"
    verbose_name = "Event log"
