"""Forwards the core's tracing events to ``logging.getLogger("ctt_onboard")``.

The native layer queues formatted records without ever taking the GIL on a runtime thread; this
module drains that queue with the GIL held, around each call, and logs each record.

``logging`` is not imported here: it is a tenth of ``import ctt_onboard``, and until something
imports it nobody can have configured a logger, so the effective level is ``WARNING`` (the root
logger's default). It is imported when a record must be forwarded.
"""

from __future__ import annotations

import sys

from . import _native

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

#: ``logging.WARNING``: the effective level of every logger before ``logging`` is configured.
_WARNING = 30

_logger: logging.Logger | None = None
_level_sent = -1

#: True when records wait in the native queue (lock-free).
pending = _native.logs_pending


def _bound_logger() -> logging.Logger | None:
    global _logger
    if _logger is None:
        logging = sys.modules.get("logging")
        if logging is not None:
            _logger = logging.getLogger("ctt_onboard")
    return _logger


def _send_level(level: int) -> None:
    global _level_sent
    _native.set_log_level(max(1, min(level, 255)))
    _level_sent = level


def before() -> None:
    """Called before each call: tells the native layer the logger's level, so a level set just
    before a call applies to it and records nobody reads are not queued, and forwards records
    left from elsewhere (another thread's or task's calls)."""
    logger = _logger if _logger is not None else _bound_logger()
    level = logger.getEffectiveLevel() if logger is not None else _WARNING
    if level != _level_sent:
        _send_level(level)
    if pending():
        drain()


def drain() -> None:
    """Hands every queued record to the ``ctt_onboard`` logger."""
    records = _native.drain_logs()
    if not records:
        return
    import logging

    logger = logging.getLogger("ctt_onboard")
    for levelno, target, message in records:
        if logger.isEnabledFor(levelno):
            logger.log(levelno, "%s", message, extra={"ctt_target": target})


def flush() -> None:
    """``before()``, for the places that are not a client call (flow, simulator)."""
    before()
