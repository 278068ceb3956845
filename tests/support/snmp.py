"""Real SNMP agents for the tests: net-snmp ``snmpd`` from a generated config, and snmpsim.

snmpd runs in the foreground (``-f``) on a free 127.0.0.1 port with its own persistent
directory, a v2c community and v3 users; it is stopped by PID. snmpsim lives in a separate
venv (``.venv-snmpsim``), created here on first use when missing (CI has PyPI access).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kape_itops.lab.snmp_sim import bound_udp

REPO = Path(__file__).resolve().parents[2]
SNMPSIM_VENV = REPO / ".venv-snmpsim"
SNMPSIM_EXE = SNMPSIM_VENV / "bin" / "snmpsim-command-responder"
SNMPD = "/usr/sbin/snmpd"

COMMUNITY = "kape-test-community"
V3_USERS = {
    # user: (auth protocol, auth key, priv protocol, priv key)
    "mon-sha-aes": ("SHA", "auth-pass-1234", "AES", "priv-pass-1234"),
    "mon-md5-des": ("MD5", "auth-pass-5678", "DES", "priv-pass-5678"),
    "mon-sha256": ("SHA-256", "auth-pass-2560", "AES", "priv-pass-2560"),
    "mon-sha512": ("SHA-512", "auth-pass-5120", "AES-256", "priv-pass-5120"),
}
_NETSNMP_PRIV = {"AES": "AES", "DES": "DES", "AES-256": "AES256"}


def ipv6_loopback() -> bool:
    """Whether this host can bind UDP on ::1."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_snmpsim() -> Path:
    """The snmpsim responder, installing it into .venv-snmpsim when missing (once, locked)."""
    if SNMPSIM_EXE.exists():
        return SNMPSIM_EXE
    lock_path = REPO / ".venv-snmpsim.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SNMPSIM_EXE.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(SNMPSIM_VENV)], check=True, timeout=300
            )
            subprocess.run(
                [
                    str(SNMPSIM_VENV / "bin" / "pip"),
                    "install",
                    "-q",
                    "snmpsim==1.2.2",
                    "pysmi==2.0.0",
                ],
                check=True,
                timeout=600,
            )
    lock_path.unlink(missing_ok=True)
    return SNMPSIM_EXE


def _wait_udp_bound(
    port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-800:]
            raise RuntimeError(f"snmpd exited with {proc.returncode}: {tail}")
        if ("127.0.0.1", port) in bound_udp():
            return
        time.sleep(0.05)
    raise RuntimeError(f"snmpd did not bind UDP port {port}")


@dataclass
class Snmpd:
    """A private net-snmp agent: v2c community :data:`COMMUNITY` and the :data:`V3_USERS`."""

    base: Path
    port: int = field(default_factory=free_udp_port)
    sys_name: str = "kape-test-snmpd"
    ipv6: bool = False
    proc: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        lines = [
            f"rocommunity {COMMUNITY} 127.0.0.1",
            f"rocommunity6 {COMMUNITY} ::1",
            f"sysName {self.sys_name}",
            "sysLocation kape-itops test",
            "sysContact it@kape.example",
        ]
        for user, (auth, akey, priv, pkey) in V3_USERS.items():
            lines.append(f'createUser {user} {auth} "{akey}" {_NETSNMP_PRIV[priv]} "{pkey}"')
            lines.append(f"rouser {user} priv")
        return "\n".join(lines) + "\n"

    def start(self) -> Snmpd:
        if not Path(SNMPD).exists():
            raise RuntimeError(
                "net-snmp snmpd not found: run 'make sysdeps' (apt-get install snmpd)"
            )
        self.base.mkdir(parents=True, exist_ok=True)
        conf = self.base / "snmpd.conf"
        conf.write_text(self.config())
        conf.chmod(0o600)
        log = self.base / "snmpd.log"
        env = dict(os.environ, SNMP_PERSISTENT_DIR=str(self.base / "persist"), MIBS="", MIBDIRS="")
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    SNMPD,
                    "-f",
                    "-Lo",
                    "-C",
                    "-c",
                    str(conf),
                    "-p",
                    str(self.base / "snmpd.pid"),
                    f"udp:127.0.0.1:{self.port}"
                    + (f",udp6:[::1]:{self.port}" if self.ipv6 else ""),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        try:
            _wait_udp_bound(self.port, self.proc, log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        shutil.rmtree(self.base, ignore_errors=True)


class SilentAgent:
    """A UDP socket on 127.0.0.1 that receives SNMP requests and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()


class LoopingAgent:
    """A broken v2c agent in a thread: GETNEXT/GETBULK step into a column once, then repeat
    the requested OID (a walk that would never end); GET answers TimeTicks. Stopped by
    :meth:`close`."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        from pyasn1.codec.ber import decoder, encoder
        from pysnmp.proto import api
        from pysnmp.proto.rfc1902 import TimeTicks

        p = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            msg, _ = decoder.decode(data, asn1Spec=p.Message())
            req = p.apiMessage.get_pdu(msg)
            rsp_msg = p.apiMessage.get_response(msg)
            rsp = p.apiMessage.get_pdu(rsp_msg)
            binds = p.apiPDU.get_varbinds(req)
            if req.isSameTypeWith(p.GetRequestPDU()):
                out = [(oid, TimeTicks(12345)) for oid, _ in binds]
            else:  # first into the column, then the same OID again and again: a loop
                out = [
                    (oid if str(oid).endswith(".1") else f"{oid}.1", TimeTicks(1))
                    for oid, _ in binds
                ]
            p.apiPDU.set_varbinds(rsp, out)
            self.sock.sendto(encoder.encode(rsp_msg), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
