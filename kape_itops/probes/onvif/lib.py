"""onvif-zeep-async, imported without its import-time ``logging.basicConfig(level=INFO)``.

The library configures the root logger when ``onvif.client`` is imported, which would make every
library's INFO messages appear on stderr. The root logger's level and handlers are put back.
"""

import logging

_root = logging.getLogger()
_level, _handlers = _root.level, list(_root.handlers)

from onvif.client import AsyncTransportProtocolErrorHandler, ONVIFService  # noqa: E402
from onvif.definition import SERVICES  # noqa: E402
from onvif.exceptions import ONVIFError, ONVIFTimeoutError  # noqa: E402

_root.setLevel(_level)
for _handler in [h for h in _root.handlers if h not in _handlers]:
    _root.removeHandler(_handler)

__all__ = [
    "SERVICES",
    "AsyncTransportProtocolErrorHandler",
    "ONVIFError",
    "ONVIFService",
    "ONVIFTimeoutError",
]
