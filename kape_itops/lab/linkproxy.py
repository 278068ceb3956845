"""A fault-injecting TCP proxy in user space: a school's bad 4G link, between collector and server.

The proxy listens on a (loopback) port and forwards every connection to one upstream
``host:port``. What the link does is a :class:`LinkMode`, changeable at run time:

- ``mode``: ``up`` (bytes pass); ``cut`` (the proxy stops listening, so a new connection is
  *refused* at once, as when a school router without uplink answers "unreachable": a sync
  fails in milliseconds, not after its timeout; bytes of connections already open are held,
  both ways, until the link is restored, as TCP rides out a short outage); ``blackhole`` (new
  connections are accepted but nothing passes either way until restored: a link that is
  attached but carries no data, so clients fail by their own timeouts).
- ``delay_ms``: every chunk, each way, arrives that much later (order kept).
- ``loss_pct``: per-segment loss simulated in user space: a chunk with a lost segment is held
  back as TCP would retransmit it (200 ms, doubling per repeated loss, at most 6 times); bytes
  are never dropped or corrupted, and later chunks never overtake it.
- ``reset_after``: after N bytes client→server the connection is reset (RST both ways,
  ``SO_LINGER`` 0).
- ``stall_after``: after N bytes server→client nothing more is forwarded to the client until
  the mode changes so that the stall no longer applies.
- ``truncate_after``: after N bytes server→client both sides are closed cleanly (FIN).
- ``faults``: how many new connections the byte faults (reset/stall/truncate) hit; ``None``
  means every connection. The count restarts at every change of mode.

Byte counts are per connection. Two ways to drive it: in-process, :class:`LinkProxy`
(``start()``, ``set(...)``, ``stop()``; an asyncio loop in a thread), or as a process::

    python -m kape_itops.lab.linkproxy --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT \\
        --control FILE [--ready STATUS]

where FILE is a JSON object of :class:`LinkMode` fields, re-read when it changes (a bad file
is reported on stderr and the last good mode kept) and STATUS receives ``{pid, port, mode,
stats}`` once listening and after each change. ``--links FILE`` serves many links from one
process (the lab's twelve schools). SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kape_itops.atomic import write_text
from kape_itops.errors import ConfigError
from kape_itops.lab.linkcore import POLL_S, LinkMode, ProxyCore, retransmit_penalty

__all__ = [
    "LinkMode",
    "LinkProxy",
    "LinkSpec",
    "read_control",
    "retransmit_penalty",
    "serve_links",
    "write_control",
]


class LinkProxy:
    """The proxy in this process: an asyncio loop in a daemon thread.

    ``LinkProxy(upstream_port)`` listens on 127.0.0.1 (port 0 = any free one; see ``port``).
    """

    def __init__(
        self,
        upstream: tuple[str, int] | int,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        mode: LinkMode | None = None,
        seed: int | None = None,
    ) -> None:
        up = ("127.0.0.1", upstream) if isinstance(upstream, int) else upstream
        self._core_args = (listen, up, mode or LinkMode(), seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.core: ProxyCore | None = None

    @property
    def port(self) -> int:
        """The port it listens on (fixed once started)."""
        assert self.core is not None, "LinkProxy not started"
        return self.core.port

    @property
    def mode(self) -> LinkMode:
        """The mode now."""
        assert self.core is not None, "LinkProxy not started"
        return self.core.mode

    def start(self, timeout: float = 5.0) -> LinkProxy:
        """Start the loop thread and listen; returns self."""
        loop = asyncio.new_event_loop()
        ready: threading.Event = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> None:
            try:
                self.core = ProxyCore(*self._core_args)
                await self.core.start()
            except BaseException as exc:
                failure.append(exc)
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(boot())
            loop.run_forever()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=2))
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="linkproxy", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            self.stop()
            raise failure[0] if failure else ConfigError("link proxy did not start")
        return self

    def set(
        self, link: LinkMode | None = None, *, timeout: float = 5.0, **changes: Any
    ) -> LinkMode:
        """Change the link now: a whole ``link`` and/or fields (``set(mode="cut")``); the new mode."""
        assert self.core is not None and self._loop is not None, "LinkProxy not started"
        new = (link or self.core.mode).changed(**changes)
        asyncio.run_coroutine_threadsafe(self.core.apply(new), self._loop).result(timeout)
        return new

    def restore(self) -> LinkMode:
        """Back to a clean link (up, no delay, no loss, no faults)."""
        return self.set(LinkMode())

    def stop(self) -> None:
        """Reset open connections, stop listening, end the thread."""
        loop, core = self._loop, self.core
        if loop is None:
            return
        if core is not None and loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(core.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> LinkProxy:
        return self.start() if self._loop is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_control(path: Path) -> LinkMode:
    """The mode in a control file (a missing file is a clean link)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LinkMode()
    except OSError as exc:
        raise ConfigError(f"link control {path}: {exc}") from exc
    try:
        return LinkMode.from_json(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"link control {path}: not JSON ({exc})") from exc


def write_control(path: Path, mode: LinkMode) -> None:
    """Write a control file atomically (the proxy process picks it up within ~50 ms)."""
    write_text(path, json.dumps(mode.to_json(), sort_keys=True) + "\n", make_parents=True)


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError(f"'{text}' is not HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """One link a proxy process serves: where it listens, what it forwards to, its files."""

    listen: tuple[str, int]
    upstream: tuple[str, int]
    control: Path
    status: Path | None = None
    seed: int | None = None

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LinkSpec:
        """A spec from a ``--links`` file entry."""
        try:
            return cls(
                _address(str(doc["listen"])),
                _address(str(doc["upstream"])),
                Path(doc["control"]),
                Path(doc["status"]) if doc.get("status") else None,
                int(doc["seed"]) if doc.get("seed") is not None else None,
            )
        except (KeyError, TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise ConfigError(f"bad link entry {doc!r}: {exc}") from exc


class _Served:
    """A running link and what its files last said."""

    def __init__(self, spec: LinkSpec, core: ProxyCore) -> None:
        self.spec, self.core = spec, core
        self.stamp = _stamp(spec.control)
        self.reported: dict[str, Any] | None = None

    def report(self) -> None:
        """Write the status file when something changed: pid, port, mode, counters."""
        doc = {
            "pid": os.getpid(),
            "port": self.core.port,
            "mode": self.core.mode.to_json(),
            "stats": {**self.core.stats, "open": self.core.open_connections},
        }
        if self.spec.status is not None and doc != self.reported:
            write_text(self.spec.status, json.dumps(doc, sort_keys=True) + "\n")
            self.reported = doc

    async def follow(self) -> None:
        """Apply the control file if it changed since last seen."""
        now = _stamp(self.spec.control)
        if now == self.stamp:
            return
        self.stamp = now
        try:
            new = read_control(self.spec.control)
        except ConfigError as exc:
            print(f"linkproxy: {exc} (keeping {self.core.mode})", file=sys.stderr, flush=True)
            return
        if new != self.core.mode:
            try:
                await self.core.apply(new)
            except OSError as exc:  # the port was taken while cut: say so, retry on next change
                print(f"linkproxy {self.spec.control}: {exc}", file=sys.stderr, flush=True)
                return
            print(f"linkproxy {self.spec.control}: {new}", file=sys.stderr, flush=True)


def _stamp(path: Path) -> tuple[int, int] | None:
    with contextlib.suppress(OSError):
        st = path.stat()
        return st.st_mtime_ns, st.st_size
    return None


async def serve_links(specs: list[LinkSpec]) -> int:
    """Serve every link until SIGTERM/SIGINT, following each control file (the process mode)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    served: list[_Served] = []
    try:
        for spec in specs:
            core = ProxyCore(spec.listen, spec.upstream, read_control(spec.control), spec.seed)
            await core.start()
            served.append(_Served(spec, core))
            host = spec.listen[0]
            print(f"linkproxy {os.getpid()} listening on {host}:{core.port}", flush=True)
        for link in served:
            link.report()
        ticks = 0
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)
            ticks += 1
            for link in served:
                await link.follow()
                if (
                    ticks % 20 == 0
                    or link.reported is None
                    or link.reported["mode"] != (link.core.mode.to_json())
                ):
                    link.report()
    finally:
        for link in served:
            await link.core.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m kape_itops.lab.linkproxy``: the proxy as a process (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m kape_itops.lab.linkproxy")
    parser.add_argument("--listen", type=_address, help="HOST:PORT (0: any free port)")
    parser.add_argument("--upstream", type=_address, help="HOST:PORT")
    parser.add_argument("--control", type=Path, help="JSON mode file")
    parser.add_argument(
        "--ready", type=Path, help="status file: {pid, port, mode, stats}, written once listening"
    )
    parser.add_argument("--seed", type=int, help="seed of the loss simulation")
    parser.add_argument(
        "--links",
        type=Path,
        help="JSON list of {listen, upstream, control, status, seed}: many links, one process",
    )
    args = parser.parse_args(argv)
    try:
        if args.links:
            doc = json.loads(args.links.read_text(encoding="utf-8"))
            if not isinstance(doc, list):
                raise ConfigError(f"{args.links}: not a JSON list of links")
            specs = [LinkSpec.from_json(d) for d in doc]
        elif args.listen and args.upstream and args.control:
            specs = [LinkSpec(args.listen, args.upstream, args.control, args.ready, args.seed)]
        else:
            parser.error("give --listen, --upstream and --control, or --links FILE")
        return asyncio.run(serve_links(specs))
    except (ConfigError, OSError, json.JSONDecodeError) as exc:
        print(f"linkproxy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
