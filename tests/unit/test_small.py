"""Pure helpers: durations, formula neutralisation, settings, result ranking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kape_itops.config import Settings, normalise_db_url
from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.timespan import parse_duration
from kape_itops.inventory.sanitize import neutralise_formula
from kape_itops.probes.base import worst


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "7", "d7", "7 days", "-1d", "1y"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("cell", "out"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("\t=x", "'\t=x"),
        ("-", "-"),
        ("-12.5", "-12.5"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise_formula(cell: str, out: str) -> None:
    assert neutralise_formula(cell) == out


@given(st.text())
def test_neutralised_cells_never_start_a_formula(cell: str) -> None:
    out = neutralise_formula(cell)
    if out and out[0] in "=+@\t\r":
        pytest.fail(f"{cell!r} -> {out!r}")
    if out.startswith("-") and out != "-":
        float(out)


def test_db_url_forms() -> None:
    assert normalise_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_db_url("/tmp/x.db") == "sqlite:////tmp/x.db"
    assert normalise_db_url("sqlite:///a.db") == "sqlite:///a.db"


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITOPS_DB", "other.db")
    monkeypatch.setenv("ITOPS_ACTOR", "dara")
    monkeypatch.delenv("ITOPS_SECRETS", raising=False)
    s = Settings()
    assert s.db_url == "sqlite:///other.db" and s.actor == "dara" and s.secrets_path is None


def test_worst_follows_nagios_precedence() -> None:
    assert worst([]) == ProbeStatus.OK
    assert worst([ProbeStatus.OK, ProbeStatus.UNKNOWN]) == ProbeStatus.UNKNOWN
    assert worst([ProbeStatus.UNKNOWN, ProbeStatus.WARN]) == ProbeStatus.WARN
    assert worst([ProbeStatus.WARN, ProbeStatus.CRIT, ProbeStatus.UNKNOWN]) == ProbeStatus.CRIT


def test_public_api_exports_resolve() -> None:
    import kape_itops

    for name in kape_itops.__all__:
        assert getattr(kape_itops, name) is not None, name
    with pytest.raises(AttributeError):
        _ = kape_itops.NoSuchThing  # type: ignore[attr-defined]
