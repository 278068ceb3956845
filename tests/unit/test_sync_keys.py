"""Site keys and tokens: Ed25519 signatures over canonical JSON, token hashes."""

from __future__ import annotations

import hashlib

import pytest

from kape_itops.secrets import Secret
from kape_itops.sync import keys


def test_tokens_are_fresh_and_long() -> None:
    tokens = {keys.new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 for t in tokens)  # 32 bytes, URL-safe base64


def test_sha256_hex_of_text_and_bytes() -> None:
    assert keys.sha256_hex("abc") == hashlib.sha256(b"abc").hexdigest()
    assert keys.sha256_hex(b"abc") == keys.sha256_hex("abc")


def test_canonical_json_ignores_key_order() -> None:
    a = keys.canonical_json({"b": 1, "a": [1, {"y": "ក", "x": None}]})
    b = keys.canonical_json({"a": [1, {"x": None, "y": "ក"}], "b": 1})
    assert a == b == '{"a":[1,{"x":null,"y":"ក"}],"b":1}'.encode()
    with pytest.raises(ValueError):
        keys.canonical_json({"x": float("nan")})


def test_sign_and_verify_json() -> None:
    private, public = keys.new_key_pair()
    assert isinstance(private, Secret)
    assert "'***'" in repr(private)
    assert keys.public_key_of(private) == public
    assert len(public) == 64
    doc = {"site": "u1", "batches": 3}
    sig = keys.sign_json(private, doc)
    assert len(sig) == 128
    assert keys.verify_json(public, {"batches": 3, "site": "u1"}, sig)
    assert not keys.verify_json(public, {"batches": 4, "site": "u1"}, sig)
    other = keys.new_key_pair()[1]
    assert not keys.verify_json(other, doc, sig)


@pytest.mark.parametrize(
    ("public", "sig"),
    [("zz", "00" * 64), ("00" * 31, "00" * 64), (None, "nothex"), (None, "00" * 63), (None, "")],
)
def test_verify_never_raises_on_garbage(public: str | None, sig: str) -> None:
    _, good = keys.new_key_pair()
    assert keys.verify(public or good, b"data", sig) is False


def test_a_malformed_private_key_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValueError) as err:
        keys.sign(Secret("secretvalue-not-hex"), b"x")
    assert "secretvalue" not in str(err.value)
