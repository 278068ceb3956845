"""The lab's fault-injecting TCP proxy against real echo and HTTP servers on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from kape_itops.lab.linkproxy import LinkMode, LinkProxy, write_control

BODY = bytes(range(256)) * 400  # 102,400 bytes


class Echo:
    """A threaded echo server; ``received`` holds each finished connection's byte count."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[int] = []
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        total = 0
        with conn:
            try:
                while data := conn.recv(65536):
                    total += len(data)
                    conn.sendall(data)
            except OSError as exc:
                self.errors.append(type(exc).__name__)
        self.received.append(total)

    def close(self) -> None:
        self.sock.close()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.close()


@pytest.fixture
def http_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy_for(request: pytest.FixtureRequest) -> Iterator[list[LinkProxy]]:
    started: list[LinkProxy] = []
    yield started
    for p in started:
        p.stop()


def _proxy(started: list[LinkProxy], upstream: int, **mode: object) -> LinkProxy:
    proxy = LinkProxy(upstream, mode=LinkMode().changed(**mode), seed=7).start()
    started.append(proxy)
    return proxy


def _roundtrip(port: int, payload: bytes, timeout: float = 20.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        sender = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(socket.SHUT_WR)))
        sender.start()
        got = bytearray()
        while data := s.recv(65536):
            got += data
        sender.join()
    return bytes(got)


def _is_reset(port: int, payload: bytes) -> bool:
    """Whether the connection ends in a reset (seen by send or by receive) rather than data."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(payload)
            _recv_all(s)
        except ConnectionResetError:
            return True
    return False


def _recv_all(s: socket.socket) -> bytes:
    got = bytearray()
    while data := s.recv(65536):
        got += data
    return bytes(got)


def test_up_passes_every_byte_both_ways(echo: Echo, proxy_for: list[LinkProxy]) -> None:
    proxy = _proxy(proxy_for, echo.port)
    payload = os.urandom(1 << 20)
    assert _roundtrip(proxy.port, payload) == payload
    assert proxy.core is not None and proxy.core.stats["accepted"] == 1


def test_delay_applies_each_way(echo: Echo, proxy_for: list[LinkProxy]) -> None:
    proxy = _proxy(proxy_for, echo.port, delay_ms=150)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
        start = time.monotonic()
        s.sendall(b"ping")
        assert s.recv(16) == b"ping"
        rtt = time.monotonic() - start
    assert 0.3 <= rtt < 1.5
    proxy.set(delay_ms=0)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
        start = time.monotonic()
        s.sendall(b"ping")
        assert s.recv(16) == b"ping"
        assert time.monotonic() - start < 0.25


def test_loss_holds_chunks_back_but_never_drops_or_reorders(
    echo: Echo, proxy_for: list[LinkProxy]
) -> None:
    proxy = _proxy(proxy_for, echo.port)
    payload = os.urandom(256 * 1024)
    assert _roundtrip(proxy.port, payload) == payload
    proxy.set(loss_pct=5)
    start = time.monotonic()
    got = _roundtrip(proxy.port, payload)
    lossy = time.monotonic() - start
    assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
    assert lossy >= 0.2  # at least one simulated retransmission timeout (5 % of ~45 segments)


def test_cut_refuses_new_connections_holds_open_ones_until_restore(
    echo: Echo, proxy_for: list[LinkProxy]
) -> None:
    proxy = _proxy(proxy_for, echo.port)
    held = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    with held:
        held.sendall(b"before")
        assert held.recv(16) == b"before"
        proxy.set(mode="cut")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        held.sendall(b"during")
        held.settimeout(0.5)
        with pytest.raises(TimeoutError):
            held.recv(16)
        proxy.restore()
        held.settimeout(5)
        assert held.recv(16) == b"during"
    assert _roundtrip(proxy.port, b"after") == b"after"


def test_blackhole_accepts_but_passes_nothing(echo: Echo, proxy_for: list[LinkProxy]) -> None:
    proxy = _proxy(proxy_for, echo.port, mode="blackhole")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as s:
        s.sendall(b"hello")
        with pytest.raises(TimeoutError):
            s.recv(16)
        assert echo.received == [] and proxy.core is not None
        proxy.set(mode="up")
        s.settimeout(5)
        assert s.recv(16) == b"hello"


def test_reset_after_sends_rst_after_n_bytes_upstream(
    echo: Echo, proxy_for: list[LinkProxy]
) -> None:
    proxy = _proxy(proxy_for, echo.port, reset_after=4096)
    with (
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s,
        pytest.raises(ConnectionResetError),
    ):
        s.sendall(b"x" * 100_000)
        _recv_all(s)
    deadline = time.monotonic() + 5
    while not echo.received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert echo.received == [4096]
    assert proxy.core is not None and proxy.core.stats["resets"] == 1


def test_faults_hit_only_the_first_connections(echo: Echo, proxy_for: list[LinkProxy]) -> None:
    proxy = _proxy(proxy_for, echo.port, reset_after=10, faults=1)
    assert _is_reset(proxy.port, b"y" * 1000)
    assert _roundtrip(proxy.port, b"y" * 1000) == b"y" * 1000


def test_stall_after_holds_the_response_until_the_mode_changes(
    http_port: int, proxy_for: list[LinkProxy]
) -> None:
    proxy = _proxy(proxy_for, http_port, stall_after=1000)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        got = bytearray()
        with pytest.raises(TimeoutError):
            while data := s.recv(65536):
                got += data
        assert len(got) == 1000
        proxy.set(delay_ms=1)  # still stalled: the stall is not lifted
        with pytest.raises(TimeoutError):
            s.recv(1)
        proxy.set(stall_after=None)
        s.settimeout(5)
        got += _recv_all(s)
    assert got.endswith(BODY)
    with httpx.Client(timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        proxy.set(stall_after=500)
        client.get(f"http://127.0.0.1:{proxy.port}/")


def test_truncate_after_closes_cleanly_mid_body(http_port: int, proxy_for: list[LinkProxy]) -> None:
    proxy = _proxy(proxy_for, http_port, truncate_after=5000)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        assert len(_recv_all(s)) == 5000  # EOF, not a reset
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(f"http://127.0.0.1:{proxy.port}/")
    proxy.restore()
    with httpx.Client(timeout=5) as client:
        assert client.get(f"http://127.0.0.1:{proxy.port}/").content == BODY


def test_upstream_down_closes_the_client(proxy_for: list[LinkProxy]) -> None:
    dead = socket.create_server(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    proxy = _proxy(proxy_for, port)
    assert _is_reset(proxy.port, b"z")
    assert proxy.core is not None and proxy.core.stats["refused_upstream"] == 1


def test_process_follows_its_control_file_and_stops_on_sigterm(echo: Echo, tmp_path: Path) -> None:
    control, ready = tmp_path / "link.json", tmp_path / "ready.json"
    write_control(control, LinkMode())
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kape_itops.lab.linkproxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            f"127.0.0.1:{echo.port}",
            "--control",
            str(control),
            "--ready",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        doc = json.loads(ready.read_text())
        assert doc["pid"] == proc.pid
        port = int(doc["port"])
        assert _roundtrip(port, b"one") == b"one"
        write_control(control, LinkMode(mode="cut"))
        deadline = time.monotonic() + 5
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.02)
            except ConnectionRefusedError:
                refused = True
        assert refused
        deadline = time.monotonic() + 5
        while json.loads(ready.read_text())["mode"]["mode"] != "cut":
            assert time.monotonic() < deadline, "the status file does not report the cut"
            time.sleep(0.02)
        control.write_text("{not json")
        time.sleep(0.2)
        write_control(control, LinkMode())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                assert _roundtrip(port, b"two") == b"two"
                break
            except ConnectionRefusedError:
                time.sleep(0.02)
        else:
            pytest.fail("the link was not restored")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert f"listening on 127.0.0.1:{port}" in out.decode()
    assert "not JSON" in err.decode()


def test_one_process_serves_many_links_each_with_its_own_control(
    echo: Echo, tmp_path: Path
) -> None:
    links = []
    for name in ("a", "b"):
        write_control(tmp_path / f"{name}.json", LinkMode())
        links.append(
            {
                "listen": "127.0.0.1:0",
                "upstream": f"127.0.0.1:{echo.port}",
                "control": str(tmp_path / f"{name}.json"),
                "status": str(tmp_path / f"{name}.status"),
            }
        )
    (tmp_path / "links.json").write_text(json.dumps(links))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kape_itops.lab.linkproxy", "--links", str(tmp_path / "links.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "b.status").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        ports = {n: json.loads((tmp_path / f"{n}.status").read_text())["port"] for n in "ab"}
        write_control(tmp_path / "a.json", LinkMode(mode="cut"))
        deadline = time.monotonic() + 5
        while json.loads((tmp_path / "a.status").read_text())["mode"]["mode"] != "cut":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", ports["a"]), timeout=2)
        assert _roundtrip(ports["b"], b"b works") == b"b works"
        proc.terminate()
        proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_bad_links_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "links.json").write_text(json.dumps([{"listen": "nowhere"}]))
    proc = subprocess.run(
        [sys.executable, "-m", "kape_itops.lab.linkproxy", "--links", str(tmp_path / "links.json")],
        capture_output=True,
        timeout=20,
    )
    assert proc.returncode == 2 and b"bad link entry" in proc.stderr
