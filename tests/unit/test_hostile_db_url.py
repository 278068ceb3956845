"""Database URLs: every form of password masked, every spelling scrubbed from error text."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kape_itops.config import normalise_db_url
from kape_itops.errors import ConfigError
from kape_itops.store.urls import has_password, mask_text, safe_url, scrub
from tests.hostile.names import PASSWORDS, leaks

HOST = "postgresql+psycopg://itops{auth}@db.school.example:5432/itops"
PASSWORD = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=8, max_size=30
).filter(lambda p: p.strip() == p and not p.startswith("*"))


def forms(password: str) -> dict[str, str]:
    enc = quote(password, safe="")
    conninfo = password.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "userinfo": HOST.format(auth=f":{enc}"),
        "query": HOST.format(auth="") + f"?sslmode=require&password={enc}",
        "sslpassword": HOST.format(auth="") + f"?sslpassword={quote_plus(password)}",
        "conninfo_in_query": HOST.format(auth="") + "?dbname="
        + quote(f"itops password='{conninfo}'", safe=""),
        "conninfo": normalise_db_url(f"host=db port=5432 user=itops password='{conninfo}'"),
    }  # fmt: skip


@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
@pytest.mark.parametrize(
    "form", ["userinfo", "query", "sslpassword", "conninfo_in_query", "conninfo"]
)
def test_every_form_is_masked_and_scrubbed(password: str, form: str) -> None:
    url = forms(password)[form]
    assert has_password(url)
    shown = safe_url(url)
    assert "***" in shown and not leaks(shown, password), shown
    driver_error = " | ".join(
        [
            f'auth failed for {spelling!r} "{spelling}"'
            for spelling in sorted(leaks(url + password, password))
        ]
        + [f"dsn: password={quote(password)} host=db", f"password='{password}'"]
    )
    assert not leaks(scrub(driver_error, url), password)


@given(PASSWORD, st.sampled_from(["userinfo", "query", "sslpassword", "conninfo"]))
def test_any_password_in_any_form_never_shows(password: str, form: str) -> None:
    url = forms(password)[form]
    assume(all(s not in forms("x" * 8)[form] for s in leaks(url, password)))
    assert has_password(url)
    assert not leaks(safe_url(url), password)
    assert not leaks(scrub(f"failed: {password} / {url}", url), password)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////srv/itops/itops.db",
        "sqlite:///itops.db",
        "postgresql+psycopg://itops@db.school.example:5432/itops",
        "postgresql+psycopg://itops@db/itops?application_name=x&sslmode=require",
        "postgresql+psycopg://itops@db/itops?passfile=%2Fetc%2Fkape-itops%2Fpgpass",
    ],
)
def test_urls_without_a_password_are_shown_as_they_are(url: str) -> None:
    assert not has_password(url)
    assert safe_url(url) == url


def test_an_unencoded_at_sign_hides_the_whole_password() -> None:
    url = "postgresql+psycopg://itops:pa@ss-W0rd-xyz@db/itops"
    assert "W0rd" not in safe_url(url)
    assert "W0rd" not in scrub("failed to resolve host 'ss-W0rd-xyz@db'", url)


def test_an_unparseable_url_is_not_shown_at_all() -> None:
    url = "postgresql+psycopg://itops:Secret-Pw-1@db:notaport/itops"
    assert safe_url(url) == "<unparseable database URL>"
    assert has_password(url)


def test_masking_keeps_the_text_around_it() -> None:
    assert mask_text("open db?password=***: refused") == "open db?password=***: refused"
    assert mask_text("host=db password='a b\\'c' user=x") == "host=db password=*** user=x"
    assert mask_text("dbname=host%3Ddb%20password%3Dxyz123") == "dbname=host%3Ddb%20password%3D***"
    assert mask_text("password authentication failed") == "password authentication failed"


def test_a_connection_string_becomes_a_url_and_a_bad_one_quotes_nothing() -> None:
    url = normalise_db_url("host=127.0.0.1 port=5433 dbname=itops user=it password='s3 cr3t'")
    assert url.startswith("postgresql+psycopg://?")
    assert safe_url(url) == (
        "postgresql+psycopg://?dbname=itops&host=127.0.0.1&password=***&port=5433&user=it"
    )
    with pytest.raises(ConfigError) as err:
        normalise_db_url("host=127.0.0.1 password='unterminated s3cr3t")
    assert "s3cr3t" not in str(err.value)
