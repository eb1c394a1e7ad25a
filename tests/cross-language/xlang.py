"""What the Python steps of the cross-language scenario share: the run's environment, and the
check file every language's step appends its PASS/FAIL lines to (run.sh counts them)."""

from __future__ import annotations

import os


def env(name: str) -> str:
    """The run's setting `name`; the step stops, saying how to run it, when it is missing."""
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: run tests/cross-language/run.sh")
    return value


class Checks:
    """One step's checks, appended to the shared file as they are made."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.failures = 0

    def __call__(self, ok: bool, what: str) -> bool:
        with open(env("CTT_XLANG_CHECKS"), "a") as f:
            f.write(f"{'PASS' if ok else 'FAIL'}\t{self.lang}\t{what}\n")
        if not ok:
            self.failures += 1
        return ok
