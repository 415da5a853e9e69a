from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "fusionprime.api"
    label = "api"
    verbose_name = "API access"
