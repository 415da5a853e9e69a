from django.conf import settings
from django.core.management.base import BaseCommand
from google.api_core import exceptions

from fusionprime.events.publisher import pubsub_project


class Command(BaseCommand):
    help = "Creates the event topics, their dead-letter topics and the pipeline subscription (emulator or GCP)."

    def handle(self, *args, **options):
        from google.cloud import pubsub_v1

        project = pubsub_project()
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        for topic in (settings.PUBSUB_TOPIC_SETTLEMENT_EVENTS, settings.PUBSUB_TOPIC_CHAIN_EVENTS):
            for name in (topic, f"{topic}.dead-letter"):
                self._ensure(lambda n=name: publisher.create_topic(name=publisher.topic_path(project, n)), name)
        subscription = subscriber.subscription_path(project, settings.PUBSUB_PIPELINE_SUBSCRIPTION)
        self._ensure(
            lambda: subscriber.create_subscription(
                request={
                    "name": subscription,
                    "topic": publisher.topic_path(project, settings.PUBSUB_TOPIC_SETTLEMENT_EVENTS),
                    "enable_message_ordering": True,
                    "ack_deadline_seconds": 60,
                }
            ),
            settings.PUBSUB_PIPELINE_SUBSCRIPTION,
        )

    def _ensure(self, create, name: str) -> None:
        try:
            create()
            self.stdout.write(f"created {name}")
        except exceptions.AlreadyExists:
            self.stdout.write(f"exists  {name}")
