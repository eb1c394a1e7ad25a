"""Shared fixtures: a fresh simulator per test (the package's own ``ctt_simulator`` fixture,
loaded by its pytest plugin), clients pointed at it, and a callback key."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import ctt_onboard as ctt
import pytest
from ctt_onboard.testing import Simulator

#: The portal's callback key in these tests.
KEY = "test-portal-callback-key-0001"

_names = itertools.count(1)


def unique_name(prefix: str = "Enterprise") -> str:
    """An enterprise name no other test in this process uses."""
    return f"{prefix} {next(_names)}"


@pytest.fixture
def sim(ctt_simulator: Simulator) -> Simulator:
    """The simulator of this test (from the package's pytest plugin)."""
    return ctt_simulator


@pytest.fixture
def clock() -> ctt.ManualClock:
    """A manual clock for the client, moved together with the simulator's."""
    return ctt.ManualClock()


@pytest.fixture
def client(sim: Simulator, clock: ctt.ManualClock) -> Iterator[ctt.Client]:
    """A blocking client for the simulator, with a callback key and the manual clock."""
    with sim.client(callback_key=KEY, clock=clock) as c:
        yield c


@pytest.fixture
async def async_client(sim: Simulator, clock: ctt.ManualClock) -> AsyncIterator[ctt.AsyncClient]:
    """An asyncio client for the simulator, with a callback key and the manual clock."""
    async with sim.async_client(callback_key=KEY, clock=clock) as c:
        yield c
