"""The sync API under ``/api/sync`` and the site's own status under ``/api/status``.

Every route but ``join`` takes ``Authorization: Bearer <site credential>``. Bodies arrive here
already size-checked and gzip-decoded (:mod:`.bodies`); the blocking service calls run in the
thread pool, never on the event loop.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kape_itops.domain.sync import Site
from kape_itops.errors import AuthError, PayloadError
from kape_itops.sync.server import SyncServer, ack_json, grant_json, hello_json
from kape_itops.sync.wire import jsonable

router = APIRouter(prefix="/api")
bearer = HTTPBearer(auto_error=False, description="The site credential `itops sync join` got.")


class JoinRequest(BaseModel):
    """A site's enrolment: the one-time token and its public key (checked by the service)."""

    token: str = Field(max_length=1000)
    public_key: str = Field(max_length=1000, description="Ed25519 raw public key, hex")
    name: str = Field(max_length=1000, description="the site's host name")
    version: str = Field(max_length=1000)


def _body_doc(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """OpenAPI text for a JSON body read by hand (gzip allowed)."""
    return {
        "requestBody": {
            "required": True,
            "description": description + " May be sent with `Content-Encoding: gzip`.",
            "content": {"application/json": {"schema": schema or {"type": "object"}}},
        }
    }


def sync_server(request: Request) -> SyncServer:
    """The application's one :class:`SyncServer`."""
    server: SyncServer = request.app.state.sync
    return server


def authenticated(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Site:
    """The site whose credential came with the request; AuthError (401) otherwise."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise AuthError("this needs the site credential (Authorization: Bearer ...)")
    site = sync_server(request).authenticate(creds.credentials)
    request.state.site = site.uid  # for the access log
    return site


SiteDep = Annotated[Site, Depends(authenticated)]
ServerDep = Annotated[SyncServer, Depends(sync_server)]


@router.post(
    "/sync/join",
    tags=["sync"],
    openapi_extra=_body_doc("Token and site key.", JoinRequest.model_json_schema()),
)
async def join(request: Request, server: ServerDep) -> dict[str, Any]:
    """Exchange a one-time enrolment token for the site's uid and credential."""
    try:
        asked = JoinRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise PayloadError(f"join request: {where}: {first['msg']}") from None
    grant = await run_in_threadpool(
        server.join, asked.token, asked.public_key, asked.name, asked.version
    )
    return grant_json(grant)


@router.post("/sync/hello", tags=["sync"], openapi_extra=_body_doc("The site's greeting."))
async def hello(request: Request, server: ServerDep, site: SiteDep) -> dict[str, Any]:
    """The server's marks per stream, its time, and the site's clock offset."""
    body = await request.body()
    return hello_json(await run_in_threadpool(server.hello, site, body))


@router.post("/sync/push", tags=["sync"], openapi_extra=_body_doc("One batch of one stream."))
async def push(request: Request, server: ServerDep, site: SiteDep) -> dict[str, Any]:
    """Commit one batch; the ack names the server's new mark for the stream."""
    body = await request.body()
    received = dt.datetime.now(dt.UTC)
    return ack_json(await run_in_threadpool(server.ingest, site, body, received))


@router.get("/sync/inventory", tags=["sync"])
def inventory(server: ServerDep, site: SiteDep) -> dict[str, Any]:
    """The school's inventory and probe settings (device credentials by name only)."""
    return server.pull(site)


@router.get("/sync/conflicts", tags=["sync"])
def conflicts(
    server: ServerDep, site: SiteDep, include_resolved: Annotated[bool, Query(alias="all")] = False
) -> dict[str, Any]:
    """Inventory conflicts of the site's school (open ones; ``?all=true`` with resolved)."""
    found = server.conflicts(school=site.school, include_resolved=include_resolved)
    return {"school": site.school, "conflicts": [jsonable(c) for c in found]}


@router.get("/status", tags=["status"])
def status(site: SiteDep) -> dict[str, Any]:
    """This site as the server sees it: last contact, clock offset, backlog, version.

    A site sees only its own line; ``itops server status`` on the server shows every site.
    """
    line: dict[str, Any] = jsonable(site)
    line.pop("public_key", None)
    line.pop("id", None)
    line["clock_off"] = site.clock_off
    return {"server_time": dt.datetime.now(dt.UTC).isoformat(), "site": line}
