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
- ``stall_after``: after N bytes server→client nothing more is forwarded (either way) until
  the mode changes so that the stall no longer applies.
- ``truncate_after``: after N bytes server→client both sides are closed cleanly (FIN).
- ``faults``: how many new connections the byte faults (reset/stall/truncate) hit; ``None``
  means every connection. The count restarts at every change of mode.

Byte counts are per connection. Two ways to drive it: in-process, :class:`LinkProxy`
(``start()``, ``set(...)``, ``stop()``; an asyncio loop in a thread), or as a process::

    python -m kape_itops.lab.linkproxy --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT \\
        --control FILE [--ready FILE]

where FILE is a JSON object of :class:`LinkMode` fields, re-read when it changes (a bad file
is reported on stderr and the last good mode kept). SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kape_itops.atomic import write_text
from kape_itops.errors import ConfigError

MODES = ("up", "cut", "blackhole")
MSS = 1448
RTO_S = 0.2
MAX_RETRANSMITS = 6
CHUNK = 65536
QUEUE_CHUNKS = 32
POLL_S = 0.05
_BYTE_FAULTS = ("reset_after", "stall_after", "truncate_after")


@dataclass(frozen=True, slots=True)
class LinkMode:
    """What the link does now (see the module docstring)."""

    mode: str = "up"
    delay_ms: float = 0.0
    loss_pct: float = 0.0
    reset_after: int | None = None
    stall_after: int | None = None
    truncate_after: int | None = None
    faults: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"link mode '{self.mode}' is not one of {', '.join(MODES)}")
        if not (0 <= self.delay_ms <= 600_000) or math.isnan(self.delay_ms):
            raise ConfigError(f"link delay_ms {self.delay_ms} is not within 0..600000")
        if not (0 <= self.loss_pct <= 100) or math.isnan(self.loss_pct):
            raise ConfigError(f"link loss_pct {self.loss_pct} is not within 0..100")
        for name in (*_BYTE_FAULTS, "faults"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ConfigError(f"link {name} must be a byte count >= 0 or null, not {value}")

    def changed(self, **changes: Any) -> LinkMode:
        """A copy with ``changes`` applied (validated; unknown names refused)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown link setting(s): {', '.join(sorted(unknown))}")
        try:
            return dataclasses.replace(self, **changes)
        except TypeError as exc:
            raise ConfigError(f"bad link setting: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        """The control file's JSON object."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, doc: object) -> LinkMode:
        """A mode from a control file's object (missing fields take their defaults)."""
        if not isinstance(doc, dict):
            raise ConfigError("link control: not a JSON object")
        try:
            return cls().changed(
                **{k: (float(v) if k in ("delay_ms", "loss_pct") else v) for k, v in doc.items()}
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"link control: {exc}") from exc


def retransmit_penalty(chunk_len: int, loss_pct: float, rng: random.Random) -> float:
    """Seconds a chunk waits for TCP retransmissions at ``loss_pct`` per segment (0 if none).

    Each of the chunk's segments is lost with that chance, and so is each of its
    retransmissions; the chunk waits for the unluckiest segment (200 ms, doubling, capped).
    """
    if loss_pct <= 0 or chunk_len <= 0:
        return 0.0
    p, n = loss_pct / 100.0, -(-chunk_len // MSS)
    penalty, rto, reached = 0.0, RTO_S, 1.0
    for j in range(1, MAX_RETRANSMITS + 1):
        at_least = 1.0 - (1.0 - p**j) ** n  # P(some segment was lost j times in a row)
        if at_least <= 0 or rng.random() >= at_least / reached:
            break
        reached = at_least
        penalty += rto
        rto *= 2
    return penalty


class _Conn:
    """One proxied connection: both sockets' writers and the byte counts each way."""

    def __init__(self, client: asyncio.StreamWriter, faulty: bool) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.faulty = faulty
        self.sent = {"c2s": 0, "s2c": 0}
        self.last_at = {"c2s": 0.0, "s2c": 0.0}
        self.closed = False

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]

    def reset(self) -> None:
        """RST both sides (SO_LINGER 0, then close)."""
        self.closed = True
        for w in self.writers():
            sock = w.get_extra_info("socket")
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.transport.abort()

    def close(self) -> None:
        """FIN both sides."""
        self.closed = True
        for w in self.writers():
            w.close()


class _Closed(Exception):
    """The connection was closed by a fault; stop its pumps."""


class ProxyCore:
    """The proxy itself, on one asyncio loop (both front ends run this)."""

    def __init__(
        self, listen: tuple[str, int], upstream: tuple[str, int], mode: LinkMode, seed: int | None
    ) -> None:
        self.listen, self.upstream = listen, upstream
        self.port = listen[1]
        self.mode = mode
        self.rng = random.Random(seed)  # noqa: S311 (simulated loss, not cryptography)
        self.stats = {"accepted": 0, "refused_upstream": 0, "resets": 0, "truncations": 0}
        self._faults_left = mode.faults
        self._changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._conns: set[_Conn] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def start(self) -> None:
        """Listen (unless the link starts cut)."""
        if self.mode.mode != "cut":
            await self._listen()
        elif self.port == 0:
            raise ConfigError("a link proxy that starts cut needs a fixed --listen port")

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.listen[0], self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def apply(self, mode: LinkMode) -> None:
        """Switch to ``mode``: (re)listen or stop listening, wake held and stalled connections."""
        self.mode = mode
        self._faults_left = mode.faults
        if mode.mode == "cut" and self._server is not None:
            self._server.close()
            self._server = None
        elif mode.mode != "cut" and self._server is None:
            await self._listen()
        self._changed.set()
        self._changed = asyncio.Event()

    async def close(self) -> None:
        """Stop listening and reset every open connection."""
        self._closing = True
        if self._server is not None:
            self._server.close()
            self._server = None
        self._changed.set()
        for conn in list(self._conns):
            conn.reset()
        for task in list(self._tasks):
            task.cancel()
        pending = [*self._tasks, *self._handlers]
        if pending:
            await asyncio.wait(pending, timeout=2)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["accepted"] += 1
        me = asyncio.current_task()
        if me is not None:
            self._handlers.add(me)
            me.add_done_callback(self._handlers.discard)
        faulty = self._faults_left is None or self._faults_left > 0
        if self._faults_left is not None and self._faults_left > 0:
            self._faults_left -= 1
        conn = _Conn(writer, faulty)
        self._conns.add(conn)
        try:
            await self._wait_open()
            try:
                up_reader, conn.upstream = await asyncio.open_connection(*self.upstream)
            except OSError:
                self.stats["refused_upstream"] += 1
                conn.reset()
                return
            tasks = [
                self._spawn(self._direction(conn, reader, conn.upstream, "c2s")),
                self._spawn(self._direction(conn, up_reader, writer, "s2c")),
            ]
            await asyncio.wait(tasks)
        except _Closed:
            pass
        except asyncio.CancelledError:
            conn.reset()
            raise
        finally:
            if not conn.closed:
                conn.close()
            self._conns.discard(conn)

    async def _wait_open(self) -> LinkMode:
        """The current mode, once bytes may pass (not cut, not blackholed)."""
        while self.mode.mode != "up" and not self._closing:
            await self._changed.wait()
        if self._closing:
            raise _Closed
        return self.mode

    async def _direction(
        self, conn: _Conn, src: asyncio.StreamReader, dst: asyncio.StreamWriter, way: str
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUE_CHUNKS)
        writer = self._spawn(self._write(conn, queue, dst, way))
        try:
            while not conn.closed:
                try:
                    data = await src.read(CHUNK)
                except OSError:
                    conn.reset()
                    break
                if not data:
                    break
                m = self.mode
                now = time.monotonic()
                at = now + m.delay_ms / 1000 + retransmit_penalty(len(data), m.loss_pct, self.rng)
                at = max(at, conn.last_at[way])
                conn.last_at[way] = at
                await queue.put((at, data))
            await queue.put(None)
            await writer
        finally:
            writer.cancel()

    async def _write(
        self,
        conn: _Conn,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        dst: asyncio.StreamWriter,
        way: str,
    ) -> None:
        try:
            while (item := await queue.get()) is not None:
                at, data = item
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                await self._deliver(conn, dst, way, data)
            if not conn.closed and dst.can_write_eof():
                with contextlib.suppress(OSError):
                    dst.write_eof()
        except _Closed:
            pass
        except OSError:
            conn.reset()

    async def _deliver(self, conn: _Conn, dst: asyncio.StreamWriter, way: str, data: bytes) -> None:
        while data:
            if conn.closed:
                raise _Closed
            m = await self._wait_open()
            sent = conn.sent[way]
            if conn.faulty and way == "c2s" and m.reset_after is not None:
                room = m.reset_after - sent
                if room <= len(data):
                    await self._send(conn, dst, way, data[: max(room, 0)])
                    self.stats["resets"] += 1
                    conn.reset()
                    raise _Closed
            if conn.faulty and way == "s2c" and m.truncate_after is not None:
                room = m.truncate_after - sent
                if room <= len(data):
                    await self._send(conn, dst, way, data[: max(room, 0)])
                    self.stats["truncations"] += 1
                    conn.close()
                    raise _Closed
            if conn.faulty and way == "s2c" and m.stall_after is not None:
                room = max(m.stall_after - sent, 0)
                if room < len(data):
                    await self._send(conn, dst, way, data[:room])
                    data = data[room:]
                    if not self._closing:
                        await self._changed.wait()
                    continue
            await self._send(conn, dst, way, data)
            data = b""

    async def _send(self, conn: _Conn, dst: asyncio.StreamWriter, way: str, data: bytes) -> None:
        if not data:
            return
        dst.write(data)
        await dst.drain()
        conn.sent[way] += len(data)


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


async def _serve(args: argparse.Namespace) -> int:
    control: Path = args.control
    mode = read_control(control)
    core = ProxyCore(args.listen, args.upstream, mode, args.seed)
    await core.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"linkproxy {os.getpid()} listening on {args.listen[0]}:{core.port}", flush=True)
    if args.ready:
        write_text(args.ready, json.dumps({"pid": os.getpid(), "port": core.port}) + "\n")

    def stamp() -> tuple[int, int] | None:
        with contextlib.suppress(OSError):
            st = control.stat()
            return st.st_mtime_ns, st.st_size
        return None

    seen = stamp()
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_S)
        now = stamp()
        if now != seen:
            seen = now
            try:
                new = read_control(control)
            except ConfigError as exc:
                print(f"linkproxy: {exc} (keeping {core.mode})", file=sys.stderr, flush=True)
                continue
            if new != core.mode:
                await core.apply(new)
                print(f"linkproxy: {new}", file=sys.stderr, flush=True)
    await core.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m kape_itops.lab.linkproxy``: the proxy as a process (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m kape_itops.lab.linkproxy")
    parser.add_argument("--listen", type=_address, required=True, help="HOST:PORT (0: any)")
    parser.add_argument("--upstream", type=_address, required=True, help="HOST:PORT")
    parser.add_argument("--control", type=Path, required=True, help="JSON mode file")
    parser.add_argument("--ready", type=Path, help="write {pid, port} here once listening")
    parser.add_argument("--seed", type=int, help="seed of the loss simulation")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_serve(args))
    except ConfigError as exc:
        print(f"linkproxy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
