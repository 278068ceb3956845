"""A small asyncio SNMP client over pysnmp 7: GET, GETBULK column walks, v1/v2c/v3 USM.

One client per run. v1/v2c go through pysnmp's light ``v1arch`` dispatcher (one UDP socket,
no per-target configuration, fast with hundreds of distinct agents); v3 needs USM and goes
through one long-lived ``v3arch`` ``SnmpEngine``. Values come back as
:class:`kape_itops.probes.snmp.values.Value` (no pysnmp types leak out), and every pysnmp error
is translated into :class:`SnmpFailure` in :func:`translate` — the one place that knows them.
Secrets are handed to pysnmp only at request time and never appear in a message.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyasn1.type import univ  # type: ignore[import-untyped]
from pysnmp.carrier.error import CarrierError
from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.hlapi.v3arch import asyncio as v3
from pysnmp.proto import errind, rfc1902, rfc1905

from kape_itops.probes.snmp.values import Kind, Value
from kape_itops.secrets import Credential, Secret

__all__ = [
    "AUTH_PROTOCOLS",
    "PRIV_PROTOCOLS",
    "Endpoint",
    "SnmpAuth",
    "SnmpClient",
    "SnmpFailure",
    "auth_from_credential",
    "translate",
]

AUTH_PROTOCOLS: dict[str, Any] = {
    "MD5": v3.usmHMACMD5AuthProtocol,
    "SHA": v3.usmHMACSHAAuthProtocol,
    "SHA-224": v3.usmHMAC128SHA224AuthProtocol,
    "SHA-256": v3.usmHMAC192SHA256AuthProtocol,
    "SHA-384": v3.usmHMAC256SHA384AuthProtocol,
    "SHA-512": v3.usmHMAC384SHA512AuthProtocol,
}
PRIV_PROTOCOLS: dict[str, Any] = {
    "DES": v3.usmDESPrivProtocol,
    "AES": v3.usmAesCfb128Protocol,
    "AES-128": v3.usmAesCfb128Protocol,
    "AES-192": v3.usmAesBlumenthalCfb192Protocol,
    "AES-256": v3.usmAesBlumenthalCfb256Protocol,
    "AES-256-C": v3.usmAesCfb256Protocol,
}
"""``AES-256`` is the draft-blumenthal key extension net-snmp uses; ``AES-256-C`` the
Cisco (Reeder) one."""

_ALIASES = {
    "SHA1": "SHA",
    "SHA256": "SHA-256",
    "SHA512": "SHA-512",
    "SHA224": "SHA-224",
    "SHA384": "SHA-384",
    "AES128": "AES-128",
    "AES192": "AES-192",
    "AES256": "AES-256",
}


class SnmpFailure(Exception):
    """The agent did not give a usable answer; ``kind`` says why (for the probe's result)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def norm_protocol(name: str | None) -> str | None:
    """``sha256`` → ``SHA-256``, ``aes`` → ``AES``; None stays None."""
    if not name:
        return None
    upper = name.strip().upper().replace("_", "-")
    return _ALIASES.get(upper.replace("-", ""), upper)


@dataclass(frozen=True, slots=True)
class SnmpAuth:
    """Credentials for one agent; secret parts are :class:`Secret` and never printed."""

    version: str = "2c"
    community: Secret | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: Secret | None = None
    priv_protocol: str | None = None
    priv_key: Secret | None = None

    def __post_init__(self) -> None:
        if self.version not in ("1", "2c", "3"):
            raise ValueError(f"SNMP version must be 1, 2c or 3, not {self.version!r}")
        if self.version == "3":
            if not self.user:
                raise ValueError("SNMPv3 needs a user name")
            if self.auth_protocol and self.auth_protocol not in AUTH_PROTOCOLS:
                raise ValueError(
                    f"auth protocol {self.auth_protocol!r} is not one of {', '.join(AUTH_PROTOCOLS)}"
                )
            if self.priv_protocol and self.priv_protocol not in PRIV_PROTOCOLS:
                raise ValueError(
                    f"privacy protocol {self.priv_protocol!r} is not one of {', '.join(PRIV_PROTOCOLS)}"
                )
            if self.auth_protocol and self.auth_key is None:
                raise ValueError("SNMPv3 authentication needs an auth key")
            if self.priv_protocol and (self.priv_key is None or not self.auth_protocol):
                raise ValueError("SNMPv3 privacy needs an auth protocol and a priv key")
        elif self.community is None:
            raise ValueError(f"SNMP v{self.version} needs a community")

    @property
    def level(self) -> str:
        """``noAuthNoPriv``, ``authNoPriv`` or ``authPriv`` (v3), else ``community``."""
        if self.version != "3":
            return "community"
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    def secret_values(self) -> list[str]:
        """The revealed secrets, only to scrub them out of foreign error text."""
        return [s.reveal() for s in (self.community, self.auth_key, self.priv_key) if s]

    def describe(self) -> str:
        """Safe description (no secrets): ``v2c`` or ``v3 user=mon SHA/AES``."""
        if self.version != "3":
            return f"v{self.version}"
        parts = [p for p in (self.auth_protocol, self.priv_protocol) if p]
        return f"v3 user={self.user} {'/'.join(parts) or 'noAuthNoPriv'}"


def auth_from_credential(cred: Credential) -> SnmpAuth:
    """An :class:`SnmpAuth` from a ``[name.snmp]`` secrets entry (ValueError when unusable)."""
    version = (cred.get("version") or ("3" if cred.get("user") else "2c")).lower().lstrip("v")
    return SnmpAuth(
        version=version,
        community=cred.secret("community"),
        user=cred.get("user") or cred.get("username"),
        auth_protocol=norm_protocol(cred.get("auth_protocol")),
        auth_key=cred.secret("auth_key"),
        priv_protocol=norm_protocol(cred.get("priv_protocol")),
        priv_key=cred.secret("priv_key"),
    )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how patiently to ask."""

    address: str
    port: int = 161
    timeout_s: float = 2.0
    retries: int = 1


_ERRORS: list[tuple[type[Exception], str, str]] = [
    (errind.RequestTimedOut, "timeout", ""),
    (
        errind.WrongDigest,
        "auth",
        "authentication failure: wrong SNMPv3 auth passphrase or protocol",
    ),
    (errind.AuthenticationFailure, "auth", "authentication failure"),
    (errind.UnknownUserName, "unknown_user", "unknown SNMPv3 user"),
    (
        errind.UnsupportedSecurityLevel,
        "security_level",
        "security level not supported for this user",
    ),
    (
        errind.DecryptionError,
        "decrypt",
        "decryption failure: wrong SNMPv3 privacy passphrase or protocol",
    ),
    (errind.NotInTimeWindow, "time_window", "not in time window (agent boots/time mismatch)"),
    (errind.UnknownEngineID, "engine_id", "SNMPv3 engine ID discovery failed"),
]


def translate(indication: object, auth: SnmpAuth, where: str) -> SnmpFailure:
    """The one place that turns pysnmp's error indications into our failure kinds."""
    for cls, kind, text in _ERRORS:
        if isinstance(indication, cls):
            if kind == "timeout":
                hint = (
                    "check community/ACL"
                    if auth.version != "3"
                    else "check address, port, ACL and the v3 privacy passphrase"
                )
                return SnmpFailure("timeout", f"no response from {where} — {hint}")
            if kind == "unknown_user":
                return SnmpFailure(kind, f"{text} '{auth.user}' on {where}")
            return SnmpFailure(kind, f"{text} ({where}, user {auth.user})")
    return SnmpFailure("error", f"SNMP error from {where}: {scrub(str(indication), auth)}")


def scrub(text: str, auth: SnmpAuth) -> str:
    """Foreign error text with any secret value replaced by ``***``."""
    for value in auth.secret_values():
        if value:
            text = text.replace(value, "***")
    return text


def to_value(obj: Any) -> Value:
    """A pysnmp/pyasn1 value as a library-free :class:`Value`."""
    if isinstance(obj, rfc1905.NoSuchObject):
        return Value(Kind.NO_SUCH_OBJECT)
    if isinstance(obj, rfc1905.NoSuchInstance):
        return Value(Kind.NO_SUCH_INSTANCE)
    if isinstance(obj, rfc1905.EndOfMibView):
        return Value(Kind.END_OF_MIB)
    if isinstance(obj, univ.Null):
        return Value(Kind.NULL)
    if isinstance(obj, rfc1902.Counter64):
        return Value(Kind.COUNTER64, int(obj))
    if isinstance(obj, rfc1902.Counter32):
        return Value(Kind.COUNTER32, int(obj))
    if isinstance(obj, rfc1902.TimeTicks):
        return Value(Kind.TIMETICKS, int(obj))
    if isinstance(obj, rfc1902.Gauge32 | rfc1902.Unsigned32):
        return Value(Kind.UNSIGNED, int(obj))
    if isinstance(obj, univ.Integer):
        return Value(Kind.INTEGER, int(obj))
    if isinstance(obj, rfc1902.IpAddress):
        return Value(Kind.IPADDRESS, ".".join(str(b) for b in obj.asOctets()))
    if isinstance(obj, rfc1902.Opaque):
        return Value(Kind.OPAQUE, bytes(obj.asOctets()))
    if isinstance(obj, univ.OctetString):
        return Value(Kind.OCTETS, bytes(obj.asOctets()))
    if isinstance(obj, univ.ObjectIdentifier):
        return Value(Kind.OID, str(obj))
    return Value(Kind.OPAQUE, repr(obj).encode())


_MAX_TARGETS = 10_000


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.strip(".").split(".") if p)


class SnmpClient:
    """GET and column walks against many agents from one dispatcher (and one v3 engine)."""

    def __init__(self) -> None:
        self._dispatcher: Any = None
        self._engine: Any = None
        self._targets: dict[tuple[str, Endpoint], Any] = {}

    async def start(self) -> None:
        """Create the v1/v2c dispatcher (the v3 engine is made on first v3 use)."""
        if self._dispatcher is None:
            self._dispatcher = v1.SnmpDispatcher()

    async def close(self) -> None:
        """Close sockets and cancel pysnmp's timers."""
        if self._dispatcher is not None:
            # Stop reading first and let datagrams already queued (late duplicates of retried
            # requests) be dropped while the transports are still registered.
            carrier = self._dispatcher.transport_dispatcher
            for domain in (
                v1.UdpTransportTarget.TRANSPORT_DOMAIN,
                v1.Udp6TransportTarget.TRANSPORT_DOMAIN,
            ):
                try:
                    transport = carrier.get_transport(domain)
                except CarrierError:  # that address family was never used
                    continue
                if transport is not None and getattr(transport, "transport", None) is not None:
                    transport.transport.close()
            for _ in range(3):
                await asyncio.sleep(0)
            # Requests abandoned at a deadline are still pending; pysnmp 7.1's close() would
            # call their callbacks with the wrong arity, and their futures are cancelled anyway.
            pending = getattr(self._dispatcher, "_pendingReqs", None)
            if isinstance(pending, dict):
                pending.clear()
            self._dispatcher.close()
            self._dispatcher = None
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    async def _target(self, arch: str, v4: Any, v6: Any, ep: Endpoint) -> Any:
        """The transport target of an endpoint, resolved once per run (bounded cache)."""
        key = (arch, ep)
        target = self._targets.get(key)
        if target is None:
            if len(self._targets) >= _MAX_TARGETS:
                self._targets.clear()
            target = self._targets[key] = await _udp_target(v4, v6, ep)
        return target

    def _v3_engine(self) -> Any:
        if self._engine is None:
            self._engine = v3.SnmpEngine()
        return self._engine

    async def _request(
        self, ep: Endpoint, auth: SnmpAuth, op: str, oids: Sequence[str], max_rep: int = 0
    ) -> list[tuple[str, Value]]:
        where = f"{ep.address}:{ep.port}"
        binds = [(rfc1902.ObjectName(o), univ.Null()) for o in oids]
        if self._dispatcher is None:
            await self.start()
        try:
            if auth.version == "3":
                result = await self._v3(ep, auth, op, binds, max_rep)
            else:
                result = await self._v1(ep, auth, op, binds, max_rep)
        except SnmpFailure:
            raise
        except Exception as exc:  # pysnmp raises many unrelated types; all become a failure
            raise SnmpFailure(
                "error",
                f"SNMP request to {where} failed: {scrub(str(exc) or type(exc).__name__, auth)}",
            ) from exc
        indication, status, index, varbinds = result
        if indication:
            raise translate(indication, auth, where)
        if status and int(status):
            name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
            if name == "authorizationError":
                raise SnmpFailure(
                    "auth",
                    f"access denied by {where} (authorizationError): check the security level "
                    f"and access rights of {auth.describe()}",
                )
            at = oids[int(index) - 1] if index and 0 < int(index) <= len(oids) else "the request"
            raise SnmpFailure("error_status", f"agent {where} answered {name} for {at}")
        return [(str(oid), to_value(val)) for oid, val in varbinds]

    async def _v1(
        self, ep: Endpoint, auth: SnmpAuth, op: str, binds: list[Any], max_rep: int
    ) -> Any:
        assert auth.community is not None
        data = v1.CommunityData(auth.community.reveal(), mpModel=0 if auth.version == "1" else 1)
        target = await self._target("v1", v1.UdpTransportTarget, v1.Udp6TransportTarget, ep)
        if op == "get":
            return await v1.get_cmd(self._dispatcher, data, target, *binds, lookupMib=False)
        if op == "next":
            return await v1.next_cmd(self._dispatcher, data, target, *binds, lookupMib=False)
        return await v1.bulk_cmd(
            self._dispatcher, data, target, 0, max_rep, *binds, lookupMib=False
        )

    async def _v3(
        self, ep: Endpoint, auth: SnmpAuth, op: str, binds: list[Any], max_rep: int
    ) -> Any:
        kwargs: dict[str, Any] = {}
        if auth.auth_protocol:
            assert auth.auth_key is not None
            kwargs.update(
                authKey=auth.auth_key.reveal(), authProtocol=AUTH_PROTOCOLS[auth.auth_protocol]
            )
        if auth.priv_protocol:
            assert auth.priv_key is not None
            kwargs.update(
                privKey=auth.priv_key.reveal(), privProtocol=PRIV_PROTOCOLS[auth.priv_protocol]
            )
        data = v3.UsmUserData(auth.user, **kwargs)  # noqa: S509 - authNoPriv is the operator's choice
        engine = self._v3_engine()
        target = await self._target("v3", v3.UdpTransportTarget, v3.Udp6TransportTarget, ep)
        ctx = v3.ContextData()
        if op == "get":
            return await v3.get_cmd(engine, data, target, ctx, *binds, lookupMib=False)
        if op == "next":
            return await v3.next_cmd(engine, data, target, ctx, *binds, lookupMib=False)
        return await v3.bulk_cmd(engine, data, target, ctx, 0, max_rep, *binds, lookupMib=False)

    async def get(self, ep: Endpoint, auth: SnmpAuth, oids: Sequence[str]) -> dict[str, Value]:
        """GET scalars; absent ones come back as noSuchObject/noSuchInstance values.

        SNMPv1 fails the whole PDU with noSuchName; then each OID is asked for alone.
        """
        if not oids:
            return {}
        try:
            got = await self._request(ep, auth, "get", oids)
        except SnmpFailure as exc:
            if auth.version == "1" and exc.kind == "error_status" and "noSuchName" in exc.message:
                if len(oids) == 1:
                    return {oids[0].strip("."): Value(Kind.NO_SUCH_OBJECT)}
                out: dict[str, Value] = {}
                for oid in oids:
                    out.update(await self.get(ep, auth, [oid]))
                return out
            raise
        return {oid.strip("."): value for oid, value in got}

    async def walk(
        self,
        ep: Endpoint,
        auth: SnmpAuth,
        columns: Sequence[str],
        max_repetitions: int = 25,
        max_rows: int = 10_000,
    ) -> dict[str, list[tuple[str, Value]]]:
        """Walk several table columns side by side with GETBULK (GETNEXT on v1).

        Each column stops at the end of its subtree, at endOfMibView, or after ``max_rows``;
        an agent that repeats or goes backwards is a failure, not an endless loop.
        """
        bases = [c.strip(".") for c in columns]
        found: dict[str, list[tuple[str, Value]]] = {b: [] for b in bases}
        last = {b: b for b in bases}
        active = list(dict.fromkeys(bases))
        op = "next" if auth.version == "1" else "bulk"
        reps = max(1, max_repetitions)
        while active:
            try:
                answer = await self._request(ep, auth, op, [last[b] for b in active], reps)
            except SnmpFailure as exc:
                if op == "next" and exc.kind == "error_status" and "noSuchName" in exc.message:
                    break  # SNMPv1 end of the MIB
                if exc.kind == "error_status" and "tooBig" in exc.message and reps > 1:
                    reps = max(1, reps // 2)
                    continue
                raise
            if not answer:
                break
            ended: set[str] = set()
            progressed = False
            for i, (oid, value) in enumerate(answer):
                base = active[i % len(active)]
                if base in ended:
                    continue
                if value.kind is Kind.END_OF_MIB or not oid.startswith(base + "."):
                    ended.add(base)
                    continue
                if _oid_key(oid) <= _oid_key(last[base]):
                    raise SnmpFailure(
                        "bad_response",
                        f"agent {ep.address}:{ep.port} returned OIDs out of order ({oid} after {last[base]})",
                    )
                found[base].append((oid, value))
                last[base] = oid
                progressed = True
                if len(found[base]) >= max_rows:
                    ended.add(base)
            active = [b for b in active if b not in ended]
            if not progressed:
                break
        return found


async def _udp_target(v4: Any, v6: Any, ep: Endpoint) -> Any:
    try:
        is_v6 = ipaddress.ip_address(ep.address).version == 6
    except ValueError:
        is_v6 = False
    cls = v6 if is_v6 else v4
    return await cls.create((ep.address, ep.port), timeout=ep.timeout_s, retries=ep.retries)
