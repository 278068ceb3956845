"""The link proxy's engine: :class:`LinkMode` and the asyncio :class:`ProxyCore`.

The front ends (:class:`~kape_itops.lab.linkproxy.LinkProxy` in a thread, the
``python -m kape_itops.lab.linkproxy`` process) and the fault model are described in
:mod:`kape_itops.lab.linkproxy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import random
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any

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

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        return len(self._conns)

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
