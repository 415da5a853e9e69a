"""Local-runner only: shorter Pub/Sub pulls, so local end-to-end latency is not stuck at ~30 s.

Beam's BundleBasedDirectRunner reads Pub/Sub with one blocking `pull(max_messages=10, timeout=30)`
per bundle, and nothing else in the pipeline moves while it waits: early panes, which are
processing-time timers, fire only after the pull returns. That puts a ~30 s floor under local
latency. This swaps the runner's subscriber client for one that pulls with a short deadline (an
empty pull is simply "no messages yet") and larger batches. Dataflow reads Pub/Sub its own way
and never uses this. It relies on the direct runner's internals of the pinned Beam (2.77); if
they change, the stock behaviour stays and a warning says so.
"""

import logging

logger = logging.getLogger(__name__)


class _ShortPullClient:
    def __init__(self, client, *, timeout: float, max_messages: int):
        self._client = client
        self._timeout = timeout
        self._max_messages = max_messages

    def pull(self, *, subscription, max_messages=None, timeout=None, **kwargs):
        from google.api_core.exceptions import DeadlineExceeded
        from google.pubsub_v1 import PullResponse

        try:
            return self._client.pull(
                subscription=subscription,
                max_messages=max(self._max_messages, max_messages or 0),
                timeout=self._timeout,
                retry=None,
            )
        except DeadlineExceeded:
            return PullResponse()

    def __getattr__(self, name):
        return getattr(self._client, name)


def use_short_pubsub_pulls(*, timeout: float, max_messages: int = 500) -> bool:
    try:
        from apache_beam.runners.direct.transform_evaluator import _PubSubReadEvaluator
    except ImportError:
        logger.warning("risk_pipeline.short_pulls_unavailable: this Beam has no _PubSubReadEvaluator")
        return False
    original = getattr(_PubSubReadEvaluator, "_get_subscriber_client", None)
    if original is None or getattr(original, "_short_pulls", False):
        return original is not None

    def _get_subscriber_client(cls, transform):
        return _ShortPullClient(original.__func__(cls, transform), timeout=timeout, max_messages=max_messages)

    _get_subscriber_client._short_pulls = True
    _PubSubReadEvaluator._get_subscriber_client = classmethod(_get_subscriber_client)
    return True
