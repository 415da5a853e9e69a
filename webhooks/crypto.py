"""Endpoint secrets: generation, encryption at rest, and Standard Webhooks signatures."""

import base64
import hashlib
import hmac
import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet_key(material: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32:
            return material.encode()  # already a Fernet key
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(f"fusionprime.webhooks:{material}".encode()).digest())


@cache
def _fernet(keys: str) -> MultiFernet:
    materials = [k.strip() for k in keys.split(",") if k.strip()]
    return MultiFernet([Fernet(_fernet_key(m)) for m in materials])


def _keys() -> str:
    # An empty setting means a dev/test install; production settings make the variable mandatory.
    return settings.WEBHOOKS_SECRET_KEY or f"derived:{settings.SECRET_KEY}"


def secret_encrypt(secret: str) -> str:
    return _fernet(_keys()).encrypt(secret.encode()).decode()


def secret_decrypt(ciphertext: str) -> str:
    try:
        return _fernet(_keys()).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError("A webhook secret cannot be decrypted with WEBHOOKS_SECRET_KEY.") from exc


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(signature(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_)
