"""A site's keys and credentials: Ed25519 signing keys, bearer tokens, canonical JSON.

A site holds one Ed25519 key pair: the private key stays in its secrets file (hex of the raw 32
bytes), the public key (hex of the raw 32 bytes) goes to the server at join and verifies the
site's bundles. Signatures cover the *canonical JSON* of a document: keys sorted, no spaces,
UTF-8 (:func:`canonical_json`), so both sides hash the same bytes whatever order a dict had.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from kape_itops.secrets import Secret

__all__ = [
    "canonical_json",
    "new_key_pair",
    "new_token",
    "public_key_of",
    "sha256_hex",
    "sign",
    "sign_json",
    "verify",
    "verify_json",
]

TOKEN_BYTES = 32
"""Random bytes of an enrolment token or a site credential (256 bits)."""
KEY_HEX = 64
"""Hex digits of a raw Ed25519 key (32 bytes)."""
SIGNATURE_HEX = 128
"""Hex digits of an Ed25519 signature (64 bytes)."""


def new_token() -> str:
    """A fresh random 256-bit token, URL-safe text (enrolment tokens, site credentials).

    Never one starting with ``-``: ``itops sync join URL TOKEN`` would read it as an option.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    for _ in range(100):
        if not token.startswith("-"):
            break
        token = secrets.token_urlsafe(TOKEN_BYTES)
    return token


def sha256_hex(data: str | bytes) -> str:
    """Hex SHA-256 of ``data`` (text as UTF-8): what the server stores instead of a token."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def canonical_json(doc: Any) -> bytes:
    """The one byte form of a JSON document that signatures cover (sorted keys, no spaces)."""
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def new_key_pair() -> tuple[Secret, str]:
    """A new Ed25519 key pair: (private key hex as a :class:`Secret`, public key hex)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Secret(raw.hex()), _public_hex(private)


def _public_hex(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _private(key: Secret | str) -> Ed25519PrivateKey:
    text = key.reveal() if isinstance(key, Secret) else key
    try:
        raw = bytes.fromhex(text)
        if len(raw) != KEY_HEX // 2:
            raise ValueError("wrong length")
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:  # never quote the key itself
        raise ValueError("the signing key is not 64 hex digits of an Ed25519 key") from exc


def _public(key: str) -> Ed25519PublicKey | None:
    try:
        raw = bytes.fromhex(key)
        if len(raw) != KEY_HEX // 2:
            return None
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def public_key_of(private_key: Secret | str) -> str:
    """The public key (hex) of a private key (hex)."""
    return _public_hex(_private(private_key))


def sign(private_key: Secret | str, data: bytes) -> str:
    """Hex Ed25519 signature of ``data``; ValueError for a malformed key."""
    return _private(private_key).sign(data).hex()


def verify(public_key: str, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is the key's signature of ``data``; never raises."""
    key = _public(public_key)
    if key is None:
        return False
    try:
        sig = bytes.fromhex(signature)
    except (TypeError, ValueError):
        return False
    if len(sig) != SIGNATURE_HEX // 2:
        return False
    try:
        key.verify(sig, data)
    except InvalidSignature:
        return False
    return True


def sign_json(private_key: Secret | str, doc: Any) -> str:
    """Hex signature of the canonical JSON of ``doc``."""
    return sign(private_key, canonical_json(doc))


def verify_json(public_key: str, doc: Any, signature: str) -> bool:
    """Whether ``signature`` covers the canonical JSON of ``doc``; never raises."""
    try:
        data = canonical_json(doc)
    except (TypeError, ValueError):
        return False
    return verify(public_key, data, signature)
