"""Runs the typed usage file (mypy --strict checks it in ``make test``), so it cannot rot."""

from __future__ import annotations

import ctt_onboard as ctt
import typed_usage


def test_typed_usage_runs() -> None:
    blocking, concurrent, code = typed_usage.main()
    assert isinstance(blocking, ctt.Complete)
    assert isinstance(concurrent, ctt.Complete)
    assert blocking.enterprise_id != concurrent.enterprise_id
    assert code == "invalid_input"
