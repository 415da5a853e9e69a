"""Public object ids: a type prefix and a ULID, so ids sort by creation time and say what they are."""

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{str(ULID()).lower()}"


def is_id(value: str, prefix: str) -> bool:
    head, sep, tail = value.partition("_")
    if head != prefix or not sep or len(tail) != 26:
        return False
    try:
        ULID.from_str(tail.upper())
    except ValueError:
        return False
    return True
