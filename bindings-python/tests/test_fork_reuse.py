"""A client built and used *before* ``fork()`` keeps working in the child: gunicorn
``--preload`` and Celery prefork import the portal (and its module-level client) in the
parent, call it there, then fork the workers.

Without per-process state in the core client, the child inherits the parent's pooled
keep-alive connections, whose tasks ran on a runtime the child does not have: the first call
stalls until its timeout (and a create turns into a false ``outcome_unknown``). A fork that
falls while a parent thread is fetching a token leaves the single-flight lock held forever in
the child. Each test runs the child's work with a hard bound and fails when it is exceeded.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Callable

import ctt_onboard as ctt
from ctt_onboard.testing import Simulator

#: The longest the child's calls may take; a stall on a dead pooled connection takes the
#: client's whole timeout (30 s by default, 20 s here), so this fails it clearly.
CHILD_BOUND_S = 10.0


def run_in_child(work: Callable[[], None], bound_s: float = CHILD_BOUND_S) -> tuple[int, float]:
    """Forks, runs ``work`` in the child under an alarm, and returns (exit code, seconds the
    child took). The child never returns into pytest."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(int(bound_s) + 5)  # a hung child dies rather than hanging the suite
            work()
            code = 0
        except BaseException as e:
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(code)
    deadline = started + bound_s + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            took = time.monotonic() - started
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status), took
            return os.WEXITSTATUS(status), took
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -1, time.monotonic() - started
        time.sleep(0.02)


def test_a_client_used_before_fork_answers_quickly_in_the_child(sim: Simulator) -> None:
    with sim.client(timeout=20.0) as client:
        rid = client.reseller_id()
        # Several calls leave keep-alive connections in the parent's pool.
        for _ in range(3):
            assert len(client.sbc_gateways(rid)) == 3

        def child() -> None:
            started = time.monotonic()
            assert len(client.sbc_gateways(rid)) == 3
            assert client.authenticated_user().reseller_id == rid
            took = time.monotonic() - started
            assert took < 5.0, f"the child's calls took {took:.1f} s"

        code, took = run_in_child(child)
        assert code == 0, f"child exit {code} after {took:.1f} s"
        # The parent's pool and token are untouched by the child.
        assert len(client.sbc_gateways(rid)) == 3
        assert sim.token_requests("reseller") == 2  # the parent's one, the child's own one


def test_a_create_in_the_child_is_not_a_false_outcome_unknown(sim: Simulator) -> None:
    with sim.client(timeout=20.0) as client:
        rid = client.reseller_id()
        client.sbc_gateways(rid)

        def child() -> None:
            new = ctt.NewEnterprise(enterprise_name="Forked Child Ltd", services=[ctt.Service.SMS])
            enterprise_id = client.create_enterprise(new)
            assert enterprise_id > 0

        code, took = run_in_child(child)
        assert code == 0, f"child exit {code} after {took:.1f} s"
        names = [e["name"] for e in sim.enterprises()]
        assert names.count("Forked Child Ltd") == 1


def test_a_fork_during_a_token_fetch_does_not_hang_the_child(sim: Simulator) -> None:
    # Every token request takes 1.5 s, so the fork below falls inside the parent's fetch,
    # while a parent thread holds the client's single-flight token lock.
    sim.set_faults(rate=1.0, kinds=["latency"], latency_ms=1500, paths=["/oauth/token"])
    with sim.client(timeout=20.0) as client:
        fetching = threading.Thread(target=client.reseller_id)
        fetching.start()
        time.sleep(0.5)  # the fetch is in flight on the runtime's threads

        def child() -> None:
            assert client.reseller_id() == sim.reseller_id

        code, took = run_in_child(child)
        fetching.join(timeout=30)
        assert not fetching.is_alive()
        assert code == 0, f"child exit {code} after {took:.1f} s"
        assert took < CHILD_BOUND_S


def test_an_async_client_used_before_fork_works_in_the_child(sim: Simulator) -> None:
    import asyncio

    async def warm(client: ctt.AsyncClient) -> int:
        rid = await client.reseller_id()
        await client.sbc_gateways(rid)
        return rid

    client = sim.async_client(timeout=20.0)
    rid = asyncio.run(warm(client))

    def child() -> None:
        async def main() -> None:
            got = await asyncio.wait_for(client.sbc_gateways(rid), timeout=5.0)
            assert len(got) == 3

        asyncio.run(main())

    code, took = run_in_child(child)
    assert code == 0, f"child exit {code} after {took:.1f} s"
