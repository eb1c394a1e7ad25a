"""Forwards the core's tracing events to ``logging.getLogger("ctt_onboard")``.

The native layer queues formatted records without ever taking the GIL on a runtime thread; this
module drains that queue with the GIL held, after each call, and logs each record.
"""

from __future__ import annotations

import logging

from . import _native

LOGGER = logging.getLogger("ctt_onboard")
_level_sent: list[int] = []


def flush() -> None:
    """Hands every queued record to the ``ctt_onboard`` logger, and tells the native layer the
    logger's level so records nobody reads are not queued. Called before and after each call,
    so a level set just before a call applies to it."""
    level = LOGGER.getEffectiveLevel()
    if _level_sent != [level]:
        _native.set_log_level(max(1, min(level, 255)))
        _level_sent[:] = [level]
    for levelno, target, message in _native.drain_logs():
        if LOGGER.isEnabledFor(levelno):
            LOGGER.log(levelno, "%s", message, extra={"ctt_target": target})
