"""netmiko sessions: login material, host-key verification and error translation in one place.

Everything here is blocking; :mod:`kape_itops.probes.ssh.probe` runs it in worker threads. Every
failure of a device or the network leaves this module as :class:`SshFailure` with a category
and a message safe to show (no secrets), so callers never see netmiko or paramiko exceptions.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paramiko
from netmiko import ConnectHandler
from netmiko.channel import SSHChannel
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)
from netmiko.netmiko_globals import MAX_BUFFER

from kape_itops.domain.devicetext import stream_decoder
from kape_itops.probes.ssh.hostkeys import (
    HostKeyChanged,
    HostKeyError,
    HostKeyUnknown,
    KnownHosts,
    host_pattern,
)
from kape_itops.secrets import Credential, Secret

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_COMMAND_TIMEOUT_S = 20.0

CATEGORIES = (
    "refused",
    "unreachable",
    "timeout",
    "auth",
    "hostkey-unknown",
    "hostkey-changed",
    "command-timeout",
    "protocol",
)


class SshFailure(Exception):
    """A device-side or network failure, translated; ``category`` is one of CATEGORIES."""

    def __init__(self, category: str, message: str) -> None:
        super().__init__(message)
        self.category = category
        self.message = message


@dataclass(frozen=True, slots=True)
class SshLogin:
    """Who logs in and how. Secrets stay wrapped until handed to netmiko."""

    username: str
    password: Secret | None = None
    key_file: str | None = None
    passphrase: Secret | None = None
    enable_secret: Secret | None = None

    def __repr__(self) -> str:
        how = "key" if self.key_file else "password" if self.password else "none"
        return f"SshLogin(username={self.username!r}, auth={how})"


@dataclass(frozen=True, slots=True)
class SshOptions:
    """Timeouts and the host-key policy. ``known_hosts=None`` disables verification."""

    known_hosts: KnownHosts | None
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S


def login_from_credential(cred: Credential) -> SshLogin:
    """An SshLogin from the ``[name.ssh]`` part of a secrets-file entry."""
    username = cred.get("username")
    if not username:
        from kape_itops.errors import SecretsError

        raise SecretsError(f"credential '{cred.name}' has no username in [{cred.name}.ssh]")
    return SshLogin(
        username=username,
        password=cred.secret("password"),
        key_file=cred.get("key_file"),
        passphrase=cred.secret("passphrase"),
        enable_secret=cred.secret("secret"),
    )


class _PinPolicy(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """Called by paramiko when no key is pinned: refuse, or pin when trusting new keys."""

    def __init__(self, known: KnownHosts, host: str, port: int) -> None:
        self.known, self.host, self.port = known, host, port

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        self.known.verify(self.host, self.port, key.get_name(), key.get_base64())


class _VerifyingClient(paramiko.SSHClient):  # type: ignore[misc]
    """A paramiko client that verifies against :class:`KnownHosts` and keeps our policy."""

    def __init__(self, known: KnownHosts, host: str, port: int) -> None:
        super().__init__()
        self._known, self._host, self._port = known, host, port
        name = host_pattern(host, port)
        for entry in known.entries(host, port):
            try:
                blob = base64.b64decode(entry.key_b64)
                pkey = paramiko.PKey.from_type_string(entry.key_type, blob)
            except (binascii.Error, ValueError, paramiko.SSHException):
                continue
            self.get_host_keys().add(name, entry.key_type, pkey)
        super().set_missing_host_key_policy(_PinPolicy(known, host, port))

    def set_missing_host_key_policy(self, policy: Any) -> None:
        """Ignored: netmiko would replace the pinning policy with its own."""

    def connect(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().connect(*args, **kwargs)
        except paramiko.BadHostKeyException as exc:
            self.close()
            self._known.verify(self._host, self._port, exc.key.get_name(), exc.key.get_base64())
            raise HostKeyChanged(f"host key of {self._host}:{self._port} changed") from exc
        except HostKeyError:
            self.close()
            raise


class SshSession:
    """One open CLI session on a device."""

    def __init__(self, conn: Any, host: str, port: int, command_timeout_s: float) -> None:
        self._conn = conn
        self.host, self.port = host, port
        self.command_timeout_s = command_timeout_s
        self._broken = False

    @property
    def prompt(self) -> str:
        """The device prompt netmiko found."""
        return str(self._conn.base_prompt)

    def enable(self) -> None:
        """Enter privileged mode (Cisco-style ``enable``) when the platform has one."""
        try:
            if not self._conn.check_enable_mode():
                self._conn.enable()
        except (ReadTimeout, ValueError) as exc:
            self._broken = True
            raise SshFailure(
                "auth", f"{self.host}:{self.port}: could not enter enable mode (enable secret?)"
            ) from exc
        except Exception as exc:
            raise self._fail(exc) from exc

    def run(self, command: str, timeout_s: float | None = None) -> str:
        """Run one exec-mode command and return its output (prompt and echo stripped)."""
        timeout = timeout_s or self.command_timeout_s
        try:
            return str(self._conn.send_command(command, read_timeout=timeout))
        except ReadTimeout as exc:
            self._broken = True
            raise SshFailure(
                "command-timeout",
                f"{self.host}:{self.port}: command '{command}' gave no prompt back "
                f"within {timeout:g} s",
            ) from exc
        except Exception as exc:
            raise self._fail(exc) from exc

    def configure(
        self, lines: Sequence[str], timeout_s: float | None = None, config_mode: bool = True
    ) -> str:
        """Send configuration lines in config mode; without one (RouterOS, Linux) as plain
        commands, waiting for the output to settle (a change may rename the prompt)."""
        timeout = timeout_s or self.command_timeout_s
        try:
            if not config_mode:
                out = [
                    str(self._conn.send_command_timing(ln, read_timeout=timeout, last_read=0.5))
                    for ln in lines
                ]
                self._conn.set_base_prompt()
                return "\n".join(out)
            return str(self._conn.send_config_set(list(lines), read_timeout=timeout))
        except ReadTimeout as exc:
            self._broken = True
            raise SshFailure(
                "command-timeout",
                f"{self.host}:{self.port}: configuration gave no prompt back within {timeout:g} s",
            ) from exc
        except Exception as exc:
            raise self._fail(exc) from exc

    def _fail(self, exc: BaseException) -> SshFailure:
        self._broken = True
        return translate(exc, self.host, self.port)

    def close(self) -> None:
        """Log out (or just drop the transport when the session is stuck)."""
        if self._broken:
            _drop(self._conn)
            return
        with contextlib.suppress(Exception):  # closing a dead session must not fail a result
            self._conn.disconnect()

    def __enter__(self) -> SshSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.paramiko_cleanup()
    with contextlib.suppress(Exception):
        conn.disconnect()
    leftover = getattr(conn, "_secrets_filter", None)
    if leftover is not None:
        logging.getLogger("netmiko").removeFilter(leftover)


def translate(exc: BaseException, host: str, port: int) -> SshFailure:
    """Map a netmiko/paramiko/socket exception to an SshFailure (the one place that knows)."""
    where = f"{host}:{port}"
    if isinstance(exc, SshFailure):
        return exc
    if isinstance(exc, HostKeyChanged):
        return SshFailure("hostkey-changed", str(exc))
    if isinstance(exc, HostKeyUnknown):
        return SshFailure("hostkey-unknown", str(exc))
    if isinstance(exc, HostKeyError):
        return SshFailure("protocol", str(exc))
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, paramiko.ssh_exception.NoValidConnectionsError):
        errors = list(cause.errors.values())
        if errors and all(isinstance(e, ConnectionRefusedError) for e in errors):
            cause = errors[0]
    if isinstance(exc, ConnectionRefusedError) or isinstance(cause, ConnectionRefusedError):
        return SshFailure("refused", f"{where}: connection refused (no SSH server listening)")
    if isinstance(exc, NetmikoAuthenticationException | paramiko.AuthenticationException):
        text = str(exc).lower()
        if "timeout" in text:
            return SshFailure("timeout", f"{where}: no answer to authentication in time")
        return SshFailure("auth", f"{where}: authentication failed (wrong user, password or key)")
    if isinstance(cause, socket.timeout | TimeoutError) or isinstance(exc, TimeoutError):
        return SshFailure("timeout", f"{where}: no answer in time")
    if isinstance(cause, OSError) and not isinstance(cause, paramiko.SSHException):
        return SshFailure("unreachable", f"{where}: cannot connect: {cause.strerror or cause}")
    if isinstance(exc, ReadTimeout):
        return SshFailure("command-timeout", f"{where}: the device stopped answering")
    if isinstance(exc, NetmikoTimeoutException):
        text = str(exc)
        if "banner" in text.lower() or "No existing session" in text:
            # paramiko reports a banner that never came as either, depending on timing
            return SshFailure("timeout", f"{where}: no SSH banner in time")
        if "TCP connection" in text:
            return SshFailure("unreachable", f"{where}: cannot connect")
        return SshFailure("timeout", f"{where}: {_first_line(text)}")
    if isinstance(exc, ValueError) and "enable mode" in str(exc):
        # TP-Link/EdgeSwitch drivers enter enable mode while preparing the session
        return SshFailure("auth", f"{where}: could not enter enable mode (enable secret?)")
    if isinstance(exc, ReadException | ValueError | paramiko.SSHException | EOFError | OSError):
        return SshFailure("protocol", f"{where}: session failed: {_first_line(str(exc))}")
    return SshFailure("protocol", f"{where}: {type(exc).__name__}: {_first_line(str(exc))}")


class _DeviceTextChannel(SSHChannel):
    """netmiko's SSH channel with one incremental decoder for the whole session.

    A character split between two reads is kept whole, and a byte that is not UTF-8 (a
    Latin-1 ``é`` in a description) is read as Windows-1252 instead of silently dropped.
    """

    def __init__(self, conn: paramiko.Channel | None, encoding: str) -> None:
        super().__init__(conn, encoding)
        self._decoder = stream_decoder()

    def read_buffer(self) -> str:
        """Single read of available data."""
        if self.remote_conn is None:
            raise ReadException("Attempt to read, but there is no active channel.")
        if not self.remote_conn.recv_ready():
            return ""
        outbuf = self.remote_conn.recv(MAX_BUFFER)
        if not outbuf:
            raise ReadException("Channel stream closed by remote device.")
        return str(self._decoder.decode(outbuf))


def _decode_device_text(conn: Any) -> None:
    """Swap netmiko's SSH channel for :class:`_DeviceTextChannel` as soon as it exists."""
    establish = conn.establish_connection

    def establish_then_swap(*args: Any, **kwargs: Any) -> Any:
        result = establish(*args, **kwargs)
        if type(conn.channel) is SSHChannel:
            conn.channel = _DeviceTextChannel(conn.remote_conn, conn.encoding)
        return result

    conn.establish_connection = establish_then_swap


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0][:200] if lines else "unexpected error"


def connect(
    host: str, port: int, device_type: str, login: SshLogin, options: SshOptions
) -> SshSession:
    """Open a netmiko session; raises SshFailure for every device or network fault."""
    params: dict[str, Any] = {
        "device_type": device_type,
        "host": host,
        "port": port,
        "username": login.username,
        "password": login.password.reveal() if login.password else "",
        "secret": login.enable_secret.reveal() if login.enable_secret else "",
        "conn_timeout": options.connect_timeout_s,
        "banner_timeout": options.connect_timeout_s,
        "auth_timeout": options.connect_timeout_s,
        "blocking_timeout": options.command_timeout_s,
        "allow_agent": False,
        "ssh_strict": options.known_hosts is not None,
        "system_host_keys": False,
        "alt_host_keys": False,
        "auto_connect": False,
    }
    if login.key_file:
        params["use_keys"] = True
        params["key_file"] = login.key_file
        if login.passphrase:
            params["passphrase"] = login.passphrase.reveal()
    try:
        conn = ConnectHandler(**params)
    except ValueError as exc:
        raise SshFailure("protocol", f"unsupported device type '{device_type}': {exc}") from exc
    known = options.known_hosts
    if known is not None:
        conn._get_ssh_client_instance = lambda: _VerifyingClient(known, host, port)  # type: ignore[method-assign]
    _decode_device_text(conn)
    try:
        # netmiko's own connection sequence (what auto_connect=True runs), after our client hook.
        conn._open()
    except Exception as exc:
        _drop(conn)
        raise translate(exc, host, port) from exc
    return SshSession(conn, host, port, options.command_timeout_s)
