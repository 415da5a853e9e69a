"""Envelopes are checked with the CloudEvents SDK's own rules, not our reading of the spec."""

import json

from cloudevents.core.formats.json import JSONFormat


def parse_envelope(raw: bytes | str | dict):
    if isinstance(raw, dict):
        raw = json.dumps(raw)
    return JSONFormat().read(None, raw)
