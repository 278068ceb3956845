"""A vendor-CLI SSH simulator (asyncssh) for the lab and the tests.

Each simulated device answers an interactive shell the way its vendor's CLI does, so netmiko's
own prompt handling runs unchanged (one :class:`Personality` per platform): MikroTik
``[admin@MikroTik] > ``; Cisco IOS ``Switch>`` / ``Switch#`` / ``Switch(config)#``; Cisco
Sx300/CBS ``switch#`` (a level-15 login lands in privileged mode; ``terminal datadump`` stops
paging); TP-Link JetStream ``T1600G>`` with ``enable`` then ``enable-admin`` and ``Press any
key to continue (Q to quit)`` paging; Ubiquiti EdgeSwitch ``(UBNT EdgeSwitch) >`` / ``#`` /
``(Config)#``; and a Linux shell ``user@host:~$``. Cisco-like CLIs have ``enable`` with a
secret, paging until ``terminal length 0`` (or ``terminal datadump``), configuration mode that
really changes the running configuration, and ``exit``/``quit``. Commands of the shipped
command sets are answered from recorded outputs in
``kape_itops/lab/ssh_recordings/<platform>.yaml``.

Faults, per device: a wrong password is refused like a real device; ``hang`` makes every
recorded command never return; ``garbage`` answers recorded commands with unreadable text; a
configuration with secrets is the default (the recordings contain passwords, communities and
keys, so scrubbing is always exercised).

:func:`start_ssh_sim` runs every device in one event loop in a background thread and returns a
handle whose ``stop()`` closes them all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import asyncssh

from kape_itops.atomic import write_text
from kape_itops.yamlsafe import load_yaml_text

LAB_USERNAME = "itops"
LAB_PASSWORD = "lab-ssh-pass"  # noqa: S105 - the simulator's published lab login
LAB_ENABLE_SECRET = "lab-enable"  # noqa: S105
PLATFORMS = (
    "cisco_ios",
    "mikrotik_routeros",
    "tplink_jetstream",
    "ubiquiti_edgeswitch",
    "cisco_s300",
    "linux",
)
FAULTS = frozenset({"hang", "garbage"})
PAGE_LINES = 24
GARBAGE = "\x1b[7m%%%% BACKPLANE 0xDEADBEEF ~~ ???? ~~\x1b[0m\r\n@@ #!% 0 0 0 0 ^^^^\r\n"


@dataclass(frozen=True, slots=True)
class Personality:
    """How one platform's CLI looks: prompts per mode, paging, commands that set the terminal."""

    prompts: dict[str, str]
    """Mode -> prompt; ``{h}`` host name, ``{u}`` user, ``{i}`` interface (EdgeSwitch)."""
    start_mode: str
    more: str = ""
    """Paging prompt ("" = the CLI never pages)."""
    paging_off: tuple[str, ...] = ()
    """Commands (prefixes) that stop paging."""
    terminal: tuple[str, ...] = ()
    """Other terminal-setting commands accepted silently."""
    configure: tuple[str, ...] = ()
    enable_cmds: tuple[str, ...] = ("enable", "en")
    invalid: str = "% Invalid input detected at '^' marker."
    caret: bool = True
    config_header: str = ""
    """Printed before ``show running-config`` (``{n}`` = the configuration's size)."""
    banner: str = "\r\n"


_CISCO_PROMPTS = {
    "user": "{h}>",
    "enable": "{h}#",
    "config": "{h}(config)#",
    "config-if": "{h}(config-if)#",
}
PERSONALITIES: dict[str, Personality] = {
    "cisco_ios": Personality(
        _CISCO_PROMPTS,
        "user",
        more=" --More-- ",
        paging_off=("terminal length 0", "term len 0"),
        terminal=(
            "terminal length",
            "term len",
            "terminal width",
            "term width",
            "terminal no monitor",
        ),
        configure=("configure terminal", "conf t", "configure", "config t"),
        config_header="Building configuration...\n\nCurrent configuration : {n} bytes\n",
    ),
    "cisco_s300": Personality(
        _CISCO_PROMPTS,
        "enable",
        more="More: <space>,  Quit: q or CTRL+Z, One line: <return> ",
        paging_off=("terminal datadump",),
        terminal=("terminal width", "terminal no datadump", "terminal length"),
        configure=("configure terminal", "conf t", "configure", "config t"),
        invalid="% Unrecognized command",
        caret=False,
    ),
    "tplink_jetstream": Personality(
        _CISCO_PROMPTS,
        "user",
        more="Press any key to continue (Q to quit)",
        paging_off=("terminal length 0",),
        terminal=("terminal length",),
        configure=("configure", "config"),
        enable_cmds=("enable", "enable-admin"),
        invalid="Error: Bad command",
        caret=False,
        banner="\r\n",
    ),
    "ubiquiti_edgeswitch": Personality(
        {
            "user": "({h}) >",
            "enable": "({h}) #",
            "config": "({h}) (Config)#",
            "config-if": "({h}) (Interface {i})#",
        },
        "user",
        more="--More-- or (q)uit",
        paging_off=("terminal length 0",),
        terminal=("terminal length", "terminal width"),
        configure=("configure",),
        banner="\r\nWelcome to EdgeSwitch\r\n\r\nBy logging in, accessing, or using the Ubiquiti "
        "product, you\r\nacknowledge that you have read and understood the Ubiquiti\r\n"
        "License Agreement and agree to be bound by its terms.\r\n\r\n",
    ),
    "mikrotik_routeros": Personality(
        {"exec": "[{u}@{h}] > "},
        "exec",
        banner="\r\n\r\n  MMM      MMM       KKK                          TTTTTTTTTTT      KKK\r\n"
        "  MikroTik RouterOS 6.49.10 (c) 1999-2023       http://www.mikrotik.com/\r\n\r\n",
    ),
    "linux": Personality(
        {"user": "{u}@{h}:~$ "},
        "user",
        banner="\r\nBusyBox v1.25.1 () built-in shell (ash)\r\n\r\n",
    ),
}
CISCO_LIKE = frozenset({"cisco_ios", "cisco_s300", "tplink_jetstream", "ubiquiti_edgeswitch"})


@dataclass(frozen=True, slots=True)
class SimDevice:
    """One simulated device. ``port=0`` picks a free port (see :attr:`SshSimHandle.devices`)."""

    address: str = "127.0.0.1"
    port: int = 0
    platform: str = "cisco_ios"
    hostname: str | None = None
    username: str = LAB_USERNAME
    password: str = LAB_PASSWORD
    enable_secret: str = LAB_ENABLE_SECRET
    faults: frozenset[str] = frozenset()
    config: str | None = None
    """Start-up running configuration (default: the recording's, which contains secrets)."""

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ValueError(f"simulated platform must be one of {', '.join(PLATFORMS)}")
        unknown = set(self.faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(sorted(unknown))}")


_MODEL_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("mikrotik", "routerboard", "hap", "cap ac", "rb"), "mikrotik_routeros"),
    (("cbs250", "cbs350", "sg300", "sg350", "sf300", "sg250", "sf250"), "cisco_s300"),
    (("cisco", "catalyst"), "cisco_ios"),
    (("jetstream", "tl-sg", "t1600g", "t2600g", "t1500g", "tp-link", "tplink"), "tplink_jetstream"),
    (("edgeswitch", "es-", "ubnt", "ubiquiti"), "ubiquiti_edgeswitch"),
)


def platform_for(kind: str, model: str | None = None) -> str:
    """The simulated CLI for a device kind/model: MikroTik for routers and hotspots."""
    text = (model or "").lower()
    for words, platform in _MODEL_WORDS:
        if any(w in text for w in words):
            return platform
    return "mikrotik_routeros" if kind in ("router", "hotspot") else "cisco_ios"


@cache
def recording(platform: str) -> dict[str, Any]:
    """The recorded outputs of a platform."""
    text = resources.files("kape_itops.lab").joinpath(f"ssh_recordings/{platform}.yaml")
    doc = load_yaml_text(text.read_text(encoding="utf-8"))[0]
    assert isinstance(doc, dict)
    return doc


def _norm(command: str) -> str:
    return " ".join(command.split())


class DeviceState:
    """What survives between sessions of one device: identity and running configuration."""

    def __init__(self, spec: SimDevice) -> None:
        rec = recording(spec.platform)
        self.spec = spec
        self.hostname = spec.hostname or str(rec["hostname"])
        self.config_lines = spec.config if spec.config is not None else str(rec["config"])
        self.commands = {_norm(k): str(v) for k, v in rec["commands"].items()}
        self.enable_required = {_norm(c) for c in rec.get("enable_required", [])}
        self.logins = 0

    def render_config(self) -> str:
        """The running configuration as the device prints it."""
        stamp = dt.datetime.now(dt.UTC).strftime("%b/%d/%Y %H:%M:%S").lower()
        return self.config_lines.replace("{hostname}", self.hostname).replace("{timestamp}", stamp)

    def set_config(self, text: str) -> None:
        """Replace the running configuration (tests and the lab)."""
        self.config_lines = text


class _Server(asyncssh.SSHServer):
    def __init__(self, state: DeviceState, live: set[Any]) -> None:
        self.state = state
        self.live = live
        self.conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self.conn = conn
        self.live.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.live.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        spec = self.state.spec
        # netmiko appends RouterOS console options to the login name ("admin+ct511w4098h").
        name = username.split("+", 1)[0] if spec.platform == "mikrotik_routeros" else username
        return name == spec.username and password == spec.password


class CliSession:
    """One interactive shell: line editing with echo, modes, paging, commands."""

    def __init__(self, state: DeviceState, process: Any) -> None:
        self.state = state
        self.proc = process
        self.platform = state.spec.platform
        self.persona = PERSONALITIES[self.platform]
        self.mode = self.persona.start_mode
        self.paging = bool(self.persona.more)
        self.buf = ""
        self.last = ""
        self.awaiting_secret = False
        self.pending: list[str] = []
        self.hung = False
        self.closed = False
        self.iface: str | None = None

    # -- output ----------------------------------------------------------------------------
    def write(self, text: str) -> None:
        if not self.closed:
            self.proc.stdout.write(text)

    def prompt(self) -> str:
        label = (self.iface or "").split(None, 1)[-1] if self.iface else ""
        return self.persona.prompts[self.mode].format(
            h=self.state.hostname, u=self.state.spec.username, i=label
        )

    def emit(self, text: str) -> None:
        """Command output, paged when paging is on, then the prompt."""
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if self.paging and len(lines) > PAGE_LINES:
            self.write("\r\n".join(lines[:PAGE_LINES]) + "\r\n" + self.persona.more)
            self.pending = lines[PAGE_LINES:]
            return
        if lines:
            self.write("\r\n".join(lines) + "\r\n")
        self.write(self.prompt())

    def page(self, key: str) -> None:
        self.write("\r" + " " * len(self.persona.more) + "\r")
        if key in ("q", "Q", "\x03", "\x1a"):
            self.pending = []
            self.write(self.prompt())
            return
        one_line = key in ("\r", "\n") and self.platform != "tplink_jetstream"
        take = 1 if one_line else PAGE_LINES
        chunk, self.pending = self.pending[:take], self.pending[take:]
        self.write("\r\n".join(chunk) + "\r\n")
        if self.pending:
            self.write(self.persona.more)
        else:
            self.write(self.prompt())

    # -- input -----------------------------------------------------------------------------
    def feed(self, data: str) -> None:
        for ch in data:
            if self.hung or self.closed:
                return
            if self.pending:
                if ch == "\n" and self.last == "\r":
                    continue
                self.last = ch
                self.page(ch)
                continue
            if ch in "\r\n":
                if ch == "\n" and self.last == "\r":
                    self.last = ch
                    continue
                self.last = ch
                line, self.buf = self.buf, ""
                if not self.awaiting_secret:
                    self.write("\r\n")
                self.line(line)
                continue
            self.last = ch
            if ch in "\x08\x7f":
                if self.buf:
                    self.buf = self.buf[:-1]
                    self.write("\b \b")
            elif ch == "\x03":
                self.buf = ""
                self.write("^C\r\n" + self.prompt())
            elif ch == "\x1a":  # Ctrl-Z leaves configuration mode
                self.buf = ""
                if self.mode.startswith("config"):
                    self.mode, self.iface = "enable", None
                self.write("\r\n" + self.prompt())
            elif ch >= " " or ch == "\t":
                self.buf += ch
                if not self.awaiting_secret:
                    self.write(ch)

    def line(self, raw: str) -> None:
        if self.awaiting_secret:
            self.awaiting_secret = False
            if raw == self.state.spec.enable_secret:
                self.mode = "enable"
                self.write("\r\n" + self.prompt())
            elif self.platform == "cisco_ios":
                self.write("\r\n% Bad secrets\r\n\r\n" + self.prompt())
            else:
                self.write("\r\n% Access denied\r\n\r\n" + self.prompt())
            return
        cmd = _norm(raw)
        if self.platform == "mikrotik_routeros":
            self.mikrotik(cmd)
        elif self.platform == "linux":
            self.linux(cmd)
        else:
            self.cisco(cmd)

    def recorded(self, cmd: str) -> str | None:
        out = self.state.commands.get(cmd)
        if out is None:
            return None
        if "hang" in self.state.spec.faults:
            self.hung = True
            return ""
        if "garbage" in self.state.spec.faults:
            return GARBAGE
        return out.replace("{hostname}", self.state.hostname)

    def answer(self, cmd: str) -> bool:
        out = self.recorded(cmd)
        if out is None:
            return False
        if not self.hung:
            self.emit(out)
        return True

    # -- Cisco-like CLIs (IOS, Sx300, JetStream, EdgeSwitch) -------------------------------
    def cisco(self, cmd: str) -> None:
        low = cmd.lower()
        persona = self.persona
        if self.mode.startswith("config"):
            self.cisco_config(cmd)
            return
        if not cmd:
            self.write(self.prompt())
        elif low in persona.enable_cmds:
            if self.mode == "enable":
                self.write(self.prompt())
            else:
                self.awaiting_secret = True
                self.write("Password: " if self.platform != "tplink_jetstream" else "Password:")
        elif low == "disable":
            self.mode = "user"
            self.write(self.prompt())
        elif low in ("exit", "logout", "quit"):
            self.close()
        elif any(low.startswith(p) for p in persona.paging_off):
            self.paging = False
            self.write(self.prompt())
        elif any(low.startswith(p) for p in persona.terminal):
            self.write(self.prompt())
        elif low in persona.configure:
            if self.mode != "enable":
                self.invalid(cmd)
            else:
                self.mode = "config"
                if self.platform == "cisco_ios":
                    self.emit("Enter configuration commands, one per line.  End with CNTL/Z.")
                else:
                    self.write(self.prompt())
        elif low in ("show running-config", "show run", "sh run", "show running"):
            if self.mode != "enable":
                self.invalid(cmd)
            elif "hang" in self.state.spec.faults:
                self.hung = True
            else:
                text = self.state.render_config()
                self.emit(persona.config_header.format(n=len(text)) + text)
        elif (cmd in self.state.enable_required and self.mode != "enable") or not self.answer(cmd):
            self.invalid(cmd)

    def invalid(self, cmd: str) -> None:
        caret = f"{' ' * len(self.prompt())}^\n" if self.persona.caret else ""
        self.emit(f"{caret}{self.persona.invalid}\n")

    def cisco_config(self, cmd: str) -> None:
        low = cmd.lower()
        if not cmd:
            self.write(self.prompt())
            return
        if low == "end":
            self.mode, self.iface = "enable", None
            self.write(self.prompt())
            return
        if low == "exit":
            if self.mode == "config-if":
                self.mode, self.iface = "config", None
            else:
                self.mode = "enable"
            self.write(self.prompt())
            return
        lines = self.state.config_lines.rstrip("\n").split("\n")
        if low.startswith("hostname "):
            self.state.hostname = cmd.split(None, 1)[1].strip('"')
        elif low.startswith("interface "):
            self.mode, self.iface = "config-if", cmd
            if cmd not in lines:
                lines[-1:-1] = [cmd, "!"]
        elif low.startswith("no "):
            target = cmd[3:]
            lines = [ln for ln in lines if ln.strip() != target]
        elif self.mode == "config-if" and self.iface in lines:
            at = lines.index(self.iface) + 1
            while at < len(lines) and lines[at].startswith(" "):
                at += 1
            lines.insert(at, " " + cmd)
        else:
            at = lines.index("end") if "end" in lines else len(lines)
            lines[at:at] = [cmd, "!"]
        self.state.config_lines = "\n".join(lines) + "\n"
        self.write(self.prompt())

    # -- MikroTik RouterOS -----------------------------------------------------------------
    def mikrotik(self, cmd: str) -> None:
        low = cmd.lower()
        if not cmd:
            self.write(self.prompt())
        elif low in ("quit", "/quit", "exit"):
            self.close()
        elif low in ("/export", "/export terse", "export", "export terse"):
            if "hang" in self.state.spec.faults:
                self.hung = True
            else:
                self.emit(self.state.render_config())
        elif low.startswith("/system identity set name="):
            self.state.hostname = cmd.split("=", 1)[1].strip('"')
            self.write(self.prompt())
        elif cmd.startswith("/") and (" set " in cmd or " add " in cmd):
            self.state.config_lines = self.state.config_lines.rstrip("\n") + f"\n{cmd}\n"
            self.write(self.prompt())
        elif not self.answer(cmd):
            self.emit(f"bad command name {cmd.split()[0].lstrip('/')} (line 1 column 1)")

    # -- Linux (BusyBox/OpenSSH shell) -----------------------------------------------------
    def linux(self, cmd: str) -> None:
        if not cmd:
            self.write(self.prompt())
        elif cmd in ("exit", "logout"):
            self.close()
        elif not self.answer(cmd):
            self.emit(f"-sh: {cmd.split()[0]}: not found")

    def close(self) -> None:
        self.closed = True
        self.proc.exit(0)


async def _shell(state: DeviceState, process: Any) -> None:
    state.logins += 1
    session = CliSession(state, process)
    session.write(session.persona.banner)
    session.write(session.prompt())
    try:
        while not session.closed:
            data = await process.stdin.read(4096)
            if not data:
                break
            session.feed(data)
    except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged):
        pass
    except (asyncssh.Error, OSError, ConnectionError):
        return
    if not session.closed:
        process.exit(0)


@dataclass(slots=True)
class SshSimHandle:
    """Running simulated devices; ``devices`` carry their real ports."""

    devices: list[SimDevice]
    states: list[DeviceState]
    host_key_type: str
    host_key_b64: str
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _servers: list[Any] = field(repr=False, default_factory=list)
    _live: set[Any] = field(repr=False, default_factory=set)
    ports: dict[str, dict[str, int]] = field(default_factory=dict)
    """Inventory address -> {"ssh": port}, filled when started by the lab."""

    def known_hosts_line(self, device: SimDevice) -> str:
        """The known_hosts line that pins this simulator's host key for ``device``."""
        name = device.address if device.port == 22 else f"[{device.address}]:{device.port}"
        return f"{name} {self.host_key_type} {self.host_key_b64}"

    def state(self, device: SimDevice) -> DeviceState:
        """The live state of a device (to change its configuration in tests)."""
        return self.states[self.devices.index(device)]

    def stop(self) -> None:
        """Close every server and end the loop thread."""
        if not self._thread.is_alive():
            return

        async def close() -> None:
            for server in self._servers:
                server.close()
            for server in self._servers:
                await server.wait_closed()
            conns = list(self._live)
            for conn in conns:
                conn.close()
            for conn in conns:
                await conn.wait_closed()

        fut = asyncio.run_coroutine_threadsafe(close(), self._loop)
        try:
            fut.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


class _QuietLostWrites(logging.Filter):
    """Drop asyncio's note about writes to a connection a client dropped (hung-command fault)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "socket.send() raised exception."


_QUIET = _QuietLostWrites()


def start_ssh_sim(
    endpoints: Iterable[SimDevice | tuple[str, int, str, str | None]],
    host_key: str | None = None,
) -> SshSimHandle:
    """Start simulated devices; tuples are ``(address, port, kind, model)`` from the lab.

    ``host_key`` is an OpenSSH private key (text); by default a fresh Ed25519 key is made, so
    each start presents a new host key (as a reinstalled device would).
    """
    logging.getLogger("asyncio").addFilter(_QUIET)
    specs: list[SimDevice] = []
    for ep in endpoints:
        if isinstance(ep, SimDevice):
            specs.append(ep)
        else:
            address, port, kind, model = ep
            specs.append(SimDevice(address=address, port=port, platform=platform_for(kind, model)))
    key = (
        asyncssh.import_private_key(host_key)
        if host_key
        else asyncssh.generate_private_key("ssh-ed25519")
    )
    public = key.export_public_key("openssh").decode().split()
    loop = asyncio.new_event_loop()
    ready: Future[tuple[list[Any], list[SimDevice]]] = Future()

    async def serve() -> tuple[list[Any], list[SimDevice]]:
        servers: list[Any] = []
        actual: list[SimDevice] = []
        try:
            for spec, state in zip(specs, states, strict=True):
                server = await asyncssh.create_server(
                    lambda st=state: _Server(st, live),
                    spec.address,
                    spec.port,
                    server_host_keys=[key],
                    process_factory=lambda p, st=state: _shell(st, p),
                    line_editor=False,
                    encoding="utf-8",
                    keepalive_interval=0,
                    login_timeout=30,
                )
                servers.append(server)
                port = server.sockets[0].getsockname()[1]
                actual.append(replace(spec, port=port))
        except BaseException:
            for s in servers:
                s.close()
            raise
        return servers, actual

    states = [DeviceState(s) for s in specs]
    live: set[Any] = set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        task = loop.create_task(serve())

        def done(t: asyncio.Task[tuple[list[Any], list[SimDevice]]]) -> None:
            if t.exception() is not None:
                ready.set_exception(t.exception())
                loop.stop()
            else:
                ready.set_result(t.result())

        task.add_done_callback(done)
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name="itops-ssh-sim", daemon=True)
    thread.start()
    servers, actual = ready.result(timeout=30)
    for i, spec in enumerate(actual):
        states[i].spec = spec
    return SshSimHandle(actual, states, public[0], public[1], loop, thread, servers, live)


FLEET_PLATFORMS = ("cisco_ios", "mikrotik_routeros")
"""The default benchmark fleet: half Cisco, half MikroTik (both have a backup command)."""


def sim_devices(
    count: int, platforms: Sequence[str] = FLEET_PLATFORMS, address: str = "127.0.0.1"
) -> list[SimDevice]:
    """``count`` devices on free ports, alternating platforms (benchmarks, tests)."""
    return [
        SimDevice(address=address, platform=platforms[i % len(platforms)], hostname=f"dev{i:03d}")
        for i in range(count)
    ]


SIMULATED_KINDS = ("router", "switch")


def lab_component(devices: Sequence[Any], ctx: Any) -> list[SshSimHandle]:
    """The ``itops lab`` component: SSH CLIs for the routers and switches of the lab, and for
    any other device whose inventory ``platform`` names a simulated CLI (Linux access points).

    ``devices`` are :class:`kape_itops.lab.lab.LabDevice`; devices simulated as down get no
    server. Loopback mode binds free ports on 127.30.i.h; netns mode binds port 22 on the
    device's own address inside the namespace. The simulators' host keys are written to
    ``known_hosts`` in the lab's folder (use it with ``ITOPS_KNOWN_HOSTS``). Logins: :data:`LAB_USERNAME` /
    :data:`LAB_PASSWORD`, enable secret :data:`LAB_ENABLE_SECRET`.
    """
    chosen = [d for d in devices if _simulated(d) and not d.down]
    if not chosen:
        return []
    specs = [
        SimDevice(
            address=ctx.address(d.ip),
            port=0 if ctx.mode == "loopback" else 22,
            platform=_lab_platform(d),
            hostname=d.asset_tag,
        )
        for d in chosen
    ]
    handle = start_ssh_sim(specs)
    handle.ports = {d.ip: {"ssh": dev.port} for d, dev in zip(chosen, handle.devices, strict=True)}
    known = Path(ctx.workdir) / "known_hosts"
    write_text(known, "".join(handle.known_hosts_line(dev) + "\n" for dev in handle.devices))
    return [handle]


def _simulated(device: Any) -> bool:
    return device.kind in SIMULATED_KINDS or (device.platform or "").lower() in PLATFORMS


_ALIASES = {
    "mikrotik": "mikrotik_routeros",
    "routeros": "mikrotik_routeros",
    "tp-link": "tplink_jetstream",
    "tplink": "tplink_jetstream",
    "jetstream": "tplink_jetstream",
    "edgeswitch": "ubiquiti_edgeswitch",
    "cisco_sg300": "cisco_s300",
    "cisco_sg350": "cisco_s300",
    "debian": "linux",
    "ubuntu": "linux",
    "raspbian": "linux",
}


def _lab_platform(device: Any) -> str:
    """The simulated CLI for a lab device: its inventory platform when the simulator has it,
    else guessed from its manufacturer and model."""
    platform = (device.platform or "").strip().lower()
    if platform in PLATFORMS:
        return platform
    if platform in _ALIASES:
        return _ALIASES[platform]
    text = " ".join(str(x or "") for x in (device.manufacturer, device.model)).lower()
    if "mikrotik" in text or "routeros" in text:
        return "mikrotik_routeros"
    if "tp-link" in text or "tplink" in text:
        return "tplink_jetstream"
    if "ubiquiti" in text and device.kind == "switch":
        return "ubiquiti_edgeswitch"
    return platform_for(device.kind, device.model)
