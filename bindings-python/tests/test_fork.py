"""A process forked after the runtime started (gunicorn, Celery prefork, multiprocessing with
fork) builds a new client and uses it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

import ctt_onboard as ctt
from ctt_onboard.testing import Simulator


def wait_for_child(pid: int) -> int:
    """The child's exit code; a child that hangs (the failure this file guards against) is
    killed after two minutes and reported as such."""
    for _ in range(1200):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WIFEXITED(status), f"child ended by signal {os.WTERMSIG(status)}"
            return os.WEXITSTATUS(status)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung")


def child_work(base_url: str, reseller: ctt.ResellerCredentials, reseller_id: int) -> int:
    with ctt.Client(base_url=base_url, reseller=reseller) as client:
        assert client.reseller_id() == reseller_id
        assert len(client.sbc_gateways(reseller_id)) == 3
    return 0


def test_os_fork_child_can_call(sim: Simulator, client: ctt.Client) -> None:
    assert client.reseller_id() == sim.reseller_id  # the runtime is running in the parent
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            code = child_work(sim.base_url, sim.reseller, sim.reseller_id)
        except BaseException as e:
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(code)
    assert wait_for_child(pid) == 0
    assert client.reseller_id() == sim.reseller_id  # the parent is unaffected


def _pool_job(args: tuple[str, ctt.ResellerCredentials, int]) -> int:
    base_url, reseller, reseller_id = args
    with ctt.Client(base_url=base_url, reseller=reseller) as c:
        return c.reseller_id() + (0 if c.reseller_id() == reseller_id else 10_000)


def test_multiprocessing_fork_pool(sim: Simulator, client: ctt.Client) -> None:
    client.authenticated_user()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map(_pool_job, [(sim.base_url, sim.reseller, sim.reseller_id)] * 4)
    assert results == [sim.reseller_id] * 4


def test_async_client_in_a_forked_child(sim: Simulator, client: ctt.Client) -> None:
    client.authenticated_user()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            import asyncio

            async def main() -> int:
                async with sim.async_client() as c:
                    ids = await asyncio.gather(*(c.reseller_id() for _ in range(5)))
                return 0 if ids == [sim.reseller_id] * 5 else 1

            code = asyncio.run(main())
        except BaseException as e:
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(code)
    assert wait_for_child(pid) == 0
