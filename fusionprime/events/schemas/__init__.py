"""The event JSON Schemas: the single source for tests, the risk pipeline's parse step and integrators.

Files beside this module:
- `envelope.json`: the CloudEvents envelope every event uses;
- `<resource>.<action>.json` (a dot in the name): one per event type, built on the envelope;
- `<resource>.json`: a resource's public representation (an event's `data`, named by `dataschema`).

Adding an event type is adding one `<type>.json` file. The module needs only `jsonschema`, not Django,
so the Beam pipeline can import it on Dataflow workers.
"""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parent
ENVELOPE = "envelope"


class EventSchemaError(ValueError):
    """An envelope that does not match its schemas; `errors` lists "path: message" strings."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(f"{message}: " + "; ".join(errors) if errors else message)
        self.errors = errors


@cache
def _documents() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(SCHEMA_DIR.glob("*.json"))}


def schema_names() -> list[str]:
    return list(_documents())


def event_types() -> list[str]:
    return [name for name in _documents() if "." in name]


def schema_document(name: str) -> dict:
    """The schema file `<name>.json` as published; KeyError if there is none."""
    return _documents()[name]


@cache
def _registry() -> Registry:
    resources = [(doc["$id"], Resource.from_contents(doc)) for doc in _documents().values()]
    return Registry().with_resources(resources)


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema_document(name), registry=_registry())


def _errors(name: str, instance: dict) -> list[str]:
    found = sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found]


def validate_envelope(envelope: dict, *, require_type_schema: bool = True) -> None:
    """Raises EventSchemaError unless `envelope` matches the envelope schema and its type's schema.

    An event type without a schema file is refused unless `require_type_schema=False` (for types
    whose payload is not final yet); the envelope itself is always checked.
    """
    if not isinstance(envelope, dict):
        raise EventSchemaError("An event envelope must be a JSON object", [f"(root): got {type(envelope).__name__}"])
    errors = _errors(ENVELOPE, envelope)
    if errors:
        raise EventSchemaError("Invalid event envelope", errors)
    event_type = envelope["type"]
    if event_type not in event_types():
        if require_type_schema:
            raise EventSchemaError(
                f"No schema for event type '{event_type}'", [f"type: add {event_type}.json to {SCHEMA_DIR}"]
            )
        return
    errors = _errors(event_type, envelope)
    if errors:
        raise EventSchemaError(f"Invalid '{event_type}' event", errors)
