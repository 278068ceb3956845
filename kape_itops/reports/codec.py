"""The built health report as JSON and back, losslessly (no pickle).

:func:`to_dict <kape_itops.reports.model.to_dict>` is the report's public JSON: rounded and
without the raw counts, it cannot give the report back. :func:`dump` writes every field of
every dataclass exactly as it is (floats as their shortest repr, datetimes in ISO form with
their offset, enums by value, dicts as ``[key, value]`` pairs in their order); :func:`load`
rebuilds the objects from the field types of :class:`~kape_itops.reports.model.HealthReport`,
so a report rendered from the loaded copy is the same, byte for byte. A type the codec does
not know raises :class:`CodecError` (the cache then keeps no model and builds as before).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import types
import typing
import zlib
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from kape_itops.errors import ItopsError
from kape_itops.reports.model import HealthReport

__all__ = ["FORMAT", "CodecError", "dump", "load"]

FORMAT = 1
"""Written into every dump; a dump of another format is refused."""


class CodecError(ItopsError):
    """The report holds a value the codec cannot write or read back."""


def dump(report: HealthReport) -> bytes:
    """``report`` as compressed JSON (see the module)."""
    doc = {"format": FORMAT, "report": _enc(report)}
    text = json.dumps(doc, ensure_ascii=False, allow_nan=True, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 1)


def load(data: bytes) -> HealthReport:
    """The report :func:`dump` wrote; CodecError when it cannot be read back."""
    try:
        doc = json.loads(zlib.decompress(data).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise CodecError(f"kept report model unreadable: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CodecError("kept report model: another format")
    out = _dec(HealthReport, doc["report"])
    assert isinstance(out, HealthReport)
    return out


def _enc(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return [value.days, value.seconds, value.microseconds]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return [[_enc(k), _enc(v)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [_enc(v) for v in value]
    raise CodecError(f"report model: cannot keep a {type(value).__name__}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _dec(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return raw
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if raw is None and type(None) in args:
            return None
        real = [a for a in args if a is not type(None)]
        if len(real) != 1:
            raise CodecError(f"report model: cannot read a value of {hint}")
        return _dec(real[0], raw)
    if raw is None:
        return None
    if origin in (list, Sequence):
        (item,) = typing.get_args(hint)
        return [_dec(item, v) for v in raw]
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_dec(args[0], v) for v in raw)
        return tuple(_dec(a, v) for a, v in zip(args, raw, strict=True))
    if origin in (dict, Mapping):
        k, v = typing.get_args(hint)
        return {_dec(k, a): _dec(v, b) for a, b in raw}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            fields = _hints(hint)
            names = {f.name for f in dataclasses.fields(hint) if f.init}
            return hint(**{n: _dec(fields[n], raw[n]) for n in names if n in raw})
        if issubclass(hint, Enum):
            return hint(raw)
        if issubclass(hint, dt.datetime):
            return dt.datetime.fromisoformat(raw)
        if issubclass(hint, dt.date):
            return dt.date.fromisoformat(raw)
        if issubclass(hint, dt.timedelta):
            return dt.timedelta(days=raw[0], seconds=raw[1], microseconds=raw[2])
        if hint in (int, float, str, bool):
            return raw  # JSON keeps int and float apart: the value as it was built
    raise CodecError(f"report model: cannot read a value of {hint}")
