"""A tiny lab component for tests: a TCP listener per device on the lab address (port 0)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence

from kape_itops.lab.lab import LabContext, LabDevice


class Listener:
    """Accepts and closes connections until stopped; ``ports`` maps the inventory address."""

    def __init__(self, ip: str, bind: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((bind, 0))
        self.sock.listen(16)
        self.ports = {ip: {"echo": self.sock.getsockname()[1]}}
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def stop(self) -> None:
        self.sock.close()


def listeners(devices: Sequence[LabDevice], ctx: LabContext) -> list[Listener]:
    """One listener for each of the first three devices (the lab passes only those it keeps up)."""
    return [Listener(d.ip, ctx.address(d.ip)) for d in devices[:3]]


def broken(devices: Sequence[LabDevice], ctx: LabContext) -> list[Listener]:
    """A component that fails to start."""
    raise RuntimeError("simulated component failure")
