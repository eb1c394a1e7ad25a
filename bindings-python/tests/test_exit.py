"""A process that made many concurrent AsyncClient calls exits cleanly, every time.

Before the runtime was shut down at exit, a worker thread could drop a Python object while the
interpreter's final garbage collection ran, and the process died with SIGSEGV or SIGABRT.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio
    import ctt_onboard as ctt
    from ctt_onboard.testing import Simulator

    async def main(sim):
        async with sim.async_client() as client:
            rid = await client.reseller_id()
            await asyncio.gather(*(client.sbc_gateways(rid) for _ in range(300)))

    with Simulator() as sim:
        asyncio.run(main(sim))
    print("done")
    """
)


def test_many_async_calls_then_exit_is_clean() -> None:
    for attempt in range(5):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (attempt, done.returncode, done.stderr[-2000:])
        assert done.stdout.strip().endswith("done")
