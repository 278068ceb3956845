"""Enrolment tokens are pasted on a command line: none may look like an option."""

from __future__ import annotations

from kape_itops.sync import keys


def test_no_token_starts_with_a_dash() -> None:
    tokens = [keys.new_token() for _ in range(3000)]  # 1 in 64 would, unchecked
    assert not [t for t in tokens if t.startswith("-")]
    assert len(set(tokens)) == len(tokens)
    assert min(map(len, tokens)) >= 43
