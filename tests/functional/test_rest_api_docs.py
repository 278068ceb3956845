"""``/api/docs``: the API reference as a plain page that needs nothing but the server."""

from __future__ import annotations

import re

from kape_itops.server.rest_docs import render
from tests.support.web import web_client


def test_docs_page_lists_every_route_and_loads_nothing_from_elsewhere(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        page = web.client.get("/api/docs")
        spec = web.client.get("/api/openapi.json").json()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    text = page.text
    assert "<script" not in text.lower()
    assert not re.findall(r"(?:src|href)=\"(?!/|#)", text)  # only this server's links
    assert "http://" not in text and "https://" not in text
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in text, path
    assert 'id="schema-DevicePageOut"' in text and 'href="#schema-DeviceOut"' in text
    assert "X-CSRF-Token" in text and "Basic" in text


def test_docs_page_escapes_what_the_document_says() -> None:
    doc = {
        "info": {"title": "<b>t</b>", "version": "1"},
        "paths": {
            "/x/{a}": {
                "get": {
                    "tags": ["<i>"],
                    "description": "<script>alert(1)</script>",
                    "parameters": [
                        {"name": 'q"><img>', "in": "query", "schema": {"enum": ["<s>"]}}
                    ],
                    "responses": {"200": {"description": "<u>ok</u>"}},
                }
            }
        },
        "components": {"schemas": {"A<": {"properties": {"f<": {"type": "string"}}}}},
    }
    html = render(doc)
    for raw in ("<b>t", "<script>", "<img>", "<s>", "<u>", "<i>", "A<", "f<"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
