"""``/api/docs``: the OpenAPI document as one plain HTML page, made on the server.

FastAPI's Swagger UI loads its script and styles from a CDN and runs inline script: neither
works on a school LAN without internet nor under the pages' CSP. This page needs nothing but
the server: every route with its parameters, body and answers, then every schema. All text is
escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")
INTRO = (
    "Scripts call <code>/api/v1</code> with a server user's name and password (HTTP Basic, "
    "<code>itops server user add</code>) or the web session (writes then send the "
    "<code>X-CSRF-Token</code> header). A viewer reads; it_staff also changes the inventory; "
    "a reviewer reads quotations; an admin does everything. Refusals are "
    '<code>{"error": "..."}</code>. The collectors\' sync (<code>/api/sync</code>, '
    "<code>/api/status</code>) takes the site credential as <code>Bearer</code> instead. "
    'The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a>.'
)
STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:64rem;margin:1rem auto;padding:0 1rem}"
    "code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse;margin:.4rem 0}"
    "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "h3{margin-top:1.6rem}.m{font-weight:bold;text-transform:uppercase}"
    "@media (max-width:640px){table{display:block;overflow-x:auto}}"
)


def _first_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of a content map's first media type."""
    for media in content.values():
        found: dict[str, Any] | None = media.get("schema")
        return found
    return None


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any] | None) -> str:
    """A schema in a few words of HTML (references link to the schema)."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = escape(_name(schema["$ref"]))
        return f'<a href="#schema-{name}">{name}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " or ".join(type_of(s) for s in schema[key])
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "list of " + type_of(schema.get("items"))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + type_of(schema["additionalProperties"])
    shown = escape(str(kind))
    if "format" in schema:
        shown += f" ({escape(str(schema['format']))})"
    return shown


def _text(value: object) -> str:
    return escape(str(value or "")).replace("\n\n", "<br><br>")


def _parameters(op: dict[str, Any]) -> list[str]:
    params = op.get("parameters", [])
    if not params:
        return []
    rows = [
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p.get('in', ''))}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td><td>{type_of(p.get('schema'))}</td>"
        f"<td>{_text(p.get('description') or p.get('schema', {}).get('description'))}</td></tr>"
        for p in params
    ]
    head = "<tr><th>name</th><th>in</th><th>required</th><th>type</th><th>meaning</th></tr>"
    return ["<table>", head, *rows, "</table>"]


def _body(op: dict[str, Any]) -> list[str]:
    body = op.get("requestBody")
    if not body:
        return []
    content = body.get("content", {})
    schema = _first_schema(content)
    media = ", ".join(escape(k) for k in content)
    text = f"<p>Body ({media}): {type_of(schema)}"
    if body.get("description"):
        text += f" — {_text(body['description'])}"
    return [text + "</p>"]


def _responses(op: dict[str, Any]) -> list[str]:
    out = []
    for code, answer in op.get("responses", {}).items():
        schema = _first_schema(answer.get("content", {}))
        shown = f": {type_of(schema)}" if schema else ""
        out.append(
            f"<li><code>{escape(code)}</code> {_text(answer.get('description'))}{shown}</li>"
        )
    return ["<ul>", *out, "</ul>"] if out else []


def _operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    anchor = escape(op.get("operationId", f"{method}-{path}"))
    lines = [
        f'<h3 id="{anchor}"><span class="m">{method}</span> <code>{escape(path)}</code></h3>',
        f"<p>{_text(op.get('description') or op.get('summary'))}</p>",
    ]
    if op.get("security"):
        schemes = sorted({name for item in op["security"] for name in item})
        lines.append(f"<p>Credentials: {escape(', '.join(schemes))}</p>")
    return lines + _parameters(op) + _body(op) + _responses(op)


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>']
    if schema.get("description"):
        lines.append(f"<p>{_text(schema['description'])}</p>")
    props = schema.get("properties", {})
    if props:
        needed = set(schema.get("required", []))
        lines += ["<table>", "<tr><th>field</th><th>type</th><th>meaning</th></tr>"]
        lines += [
            f"<tr><td><code>{escape(k)}</code>{'' if k in needed else ' (optional)'}</td>"
            f"<td>{type_of(v)}</td><td>{_text(v.get('description'))}</td></tr>"
            for k, v in props.items()
        ]
        lines.append("</table>")
    return lines


def render(doc: dict[str, Any]) -> str:
    """The HTML page of an OpenAPI document."""
    info = doc.get("info", {})
    title = escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in doc.get("paths", {}).items():
        for method in METHODS:
            if method in ops:
                tag = (ops[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((path, method, ops[method]))
    body = [f"<h1>{title}</h1>", f"<p>{INTRO}</p>", "<ul>"]
    body += [f'<li><a href="#tag-{escape(t)}">{escape(t)}</a></li>' for t in by_tag]
    body += ['<li><a href="#schemas">schemas</a></li>', "</ul>"]
    for tag, ops in by_tag.items():
        body.append(f'<h2 id="tag-{escape(tag)}">{escape(tag)}</h2>')
        for path, method, op in ops:
            body += _operation(path, method, op)
    body.append('<h2 id="schemas">Schemas</h2>')
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        body += _schema(name, schema)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )


@router.get("/api/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """The API reference page."""
    return HTMLResponse(render(request.app.openapi()))
