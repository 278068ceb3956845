"""Serve the API with uvicorn: one process, plain HTTP or TLS with our own certificate.

uvicorn stops gracefully on SIGTERM/SIGINT: it stops accepting, lets running requests finish
(up to :data:`GRACE_S`), then closes the database pool through the app's lifespan.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from kape_itops.errors import ConfigError
from kape_itops.server.app import create_app

GRACE_S = 20
"""Seconds running requests get to finish at shutdown."""
KEEP_ALIVE_S = 30
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where and how to listen."""

    host: str = "127.0.0.1"
    port: int = 8080
    cert: Path | None = None
    key: Path | None = None


def check_tls(options: ServeOptions) -> None:
    """Refuse half a TLS setting, or a certificate and key that do not load together."""
    if (options.cert is None) != (options.key is None):
        raise ConfigError("TLS needs both --cert and --key (or neither, behind a reverse proxy)")
    if options.cert is None or options.key is None:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(options.cert, options.key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot use the certificate {options.cert} with the key {options.key}: {exc}"
        ) from exc


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(db_url: str, options: ServeOptions, *, secrets_path: Path | None = None) -> None:
    """Run the server until a signal stops it."""
    check_tls(options)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATE)
    logging.Formatter.converter = time.gmtime  # log times in UTC, marked Z
    log = logging.getLogger("kape_itops.server")
    app = create_app(db_url, secrets_path=secrets_path, secure_cookies=options.cert is not None)
    if options.cert is None and not is_loopback(options.host):
        log.warning(
            "serving plain HTTP on %s: credentials cross the network in clear text unless a "
            "reverse proxy in front adds TLS (or give --cert and --key)",
            options.host,
        )
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        ssl_certfile=str(options.cert) if options.cert else None,
        ssl_keyfile=str(options.key) if options.key else None,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACE_S,
        workers=1,
    )
    scheme = "https" if options.cert else "http"
    log.info(
        "kape-itops server on %s://%s:%d (API docs at /api/docs)",
        scheme,
        options.host,
        options.port,
    )
    uvicorn.Server(config).run()
