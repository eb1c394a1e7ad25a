"""The Python cases of the benchmarks; each invocation prints one JSON object.

The simulator's JSON line is in ``CTT_SIM`` (the driver, ``bench/run.py``, starts ``ctt-sim``).

    python bench.py latency --warmup 200 --n 2000
    python bench.py bulk --impl ctt|httpx --n 10000 --concurrency 64
    python bench.py singleflight --n 1000

The hand-written baselines are what a user would write without this SDK: a password grant, then
one request per call with ``requests.Session``, ``httpx.Client`` or ``httpx.AsyncClient``,
parsing the JSON answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

REDIRECT = "https://portal.example/ctt/callback"


def sim() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(os.environ["CTT_SIM"])
    data["base_url"] = data["base_url"].rstrip("/")
    return data


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def sim_state(s: dict[str, Any]) -> dict[str, Any]:
    with urllib.request.urlopen(s["base_url"] + "/_sim/state") as r:
        state: dict[str, Any] = json.load(r)
        return state


def ctt_kwargs(s: dict[str, Any]) -> dict[str, Any]:
    import ctt_onboard as ctt

    return {
        "base_url": s["base_url"],
        "reseller": ctt.ResellerCredentials(
            client_id=s["client_id"],
            client_secret=s["client_secret"],
            username=s["username"],
            password=s["password"],
        ),
        "reseller_id": s["reseller_id"],
    }


def token_form(s: dict[str, Any]) -> tuple[str, tuple[str, str], dict[str, str]]:
    return (
        s["base_url"] + "/oauth/token",
        (s["client_id"], s["client_secret"]),
        {"grant_type": "password", "username": s["username"], "password": s["password"]},
    )


def gateways_url(s: dict[str, Any]) -> str:
    return f"{s['base_url']}/reseller/getAvailableSBCGatewayRegionsByResellerId/{s['reseller_id']}"


def time_calls(warmup: int, n: int, call: Callable[[], Any]) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t = clock()
        call()
        out.append((clock() - t) * 1e6)
    return out


async def time_calls_async(warmup: int, n: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(warmup):
        await call()
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t = clock()
        await call()
        out.append((clock() - t) * 1e6)
    return out


def latency(warmup: int, n: int) -> dict[str, Any]:
    import ctt_onboard as ctt
    import httpx
    import requests

    s = sim()
    rid = s["reseller_id"]
    name = f"Py Latency {os.getpid()}"
    results = []

    def add(impl: str, op: str, samples: list[float]) -> None:
        results.append({"lang": "python", "impl": impl, "op": op, "samples_us": samples})

    with ctt.Client(**ctt_kwargs(s)) as client:
        client.create_enterprise(ctt.NewEnterprise(enterprise_name=name, services=["SMS"]))
        add("Client", "sbc_gateways", time_calls(warmup, n, lambda: client.sbc_gateways(rid)))
        add(
            "Client",
            "action_item_url",
            time_calls(
                warmup, n, lambda: client.action_item_url("REGISTRATION", name, REDIRECT)
            ),
        )

    async def run_async() -> None:
        async with ctt.AsyncClient(**ctt_kwargs(s)) as client:
            add(
                "AsyncClient",
                "sbc_gateways",
                await time_calls_async(warmup, n, lambda: client.sbc_gateways(rid)),
            )
            add(
                "AsyncClient",
                "action_item_url",
                await time_calls_async(
                    warmup, n, lambda: client.action_item_url("REGISTRATION", name, REDIRECT)
                ),
            )

    asyncio.run(run_async())

    url, auth, form = token_form(s)
    gw = gateways_url(s)
    aiu = s["base_url"] + "/enterprise/getActionItemUrl"
    body = {"actionType": "REGISTRATION", "enterpriseName": name, "redirectUrl": REDIRECT}

    with requests.Session() as session:
        r = session.post(url, auth=auth, data=form)
        r.raise_for_status()
        session.headers["Authorization"] = "Bearer " + r.json()["access_token"]

        def req_gw() -> Any:
            r = session.get(gw)
            r.raise_for_status()
            return r.json()

        def req_url() -> str:
            r = session.post(aiu, json=body)
            r.raise_for_status()
            return r.text

        add("requests.Session", "sbc_gateways", time_calls(warmup, n, req_gw))
        add("requests.Session", "action_item_url", time_calls(warmup, n, req_url))

    with httpx.Client() as hc:
        r = hc.post(url, auth=auth, data=form)
        r.raise_for_status()
        hc.headers["Authorization"] = "Bearer " + r.json()["access_token"]

        def hx_gw() -> Any:
            r = hc.get(gw)
            r.raise_for_status()
            return r.json()

        def hx_url() -> str:
            r = hc.post(aiu, json=body)
            r.raise_for_status()
            return r.text

        add("httpx.Client", "sbc_gateways", time_calls(warmup, n, hx_gw))
        add("httpx.Client", "action_item_url", time_calls(warmup, n, hx_url))
    return {"case": "latency", "results": results}


async def pool(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> None:
    """``concurrency`` workers taking the next index until ``n``."""
    it = iter(range(n))

    async def worker() -> None:
        for i in it:
            await one(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def bulk_ctt(s: dict[str, Any], n: int, concurrency: int) -> float:
    import ctt_onboard as ctt

    prefix = f"Py Bulk {os.getpid()}"
    async with ctt.AsyncClient(**ctt_kwargs(s)) as client:
        await client.sbc_gateways(s["reseller_id"])  # the token, outside the timing

        async def one(i: int) -> None:
            name = f"{prefix} {i}"
            e = ctt.NewEnterprise(
                enterprise_name=name, services=["SMS", "CHAT"], restrict_admin_access=True
            )
            await client.create_enterprise(e)
            await client.action_item_url("REGISTRATION", name, REDIRECT)

        t = time.perf_counter()
        await pool(n, concurrency, one)
        return time.perf_counter() - t


async def bulk_httpx(s: dict[str, Any], n: int, concurrency: int) -> float:
    import httpx

    prefix = f"Httpx Bulk {os.getpid()}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as hc:
        url, auth, form = token_form(s)
        r = await hc.post(url, auth=auth, data=form)
        r.raise_for_status()
        hc.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        base = s["base_url"]

        async def one(i: int) -> None:
            name = f"{prefix} {i}"
            r = await hc.post(
                base + "/reseller/newEnterprise",
                json={
                    "enterpriseName": name,
                    "services": ["SMS", "CHAT"],
                    "restrictAdminAccess": True,
                },
            )
            r.raise_for_status()
            int(r.text)
            r = await hc.post(
                base + "/enterprise/getActionItemUrl",
                json={"actionType": "REGISTRATION", "enterpriseName": name, "redirectUrl": REDIRECT},
            )
            r.raise_for_status()

        t = time.perf_counter()
        await pool(n, concurrency, one)
        return time.perf_counter() - t


def bulk(impl: str, n: int, concurrency: int) -> dict[str, Any]:
    s = sim()
    if impl == "ctt":
        secs = asyncio.run(bulk_ctt(s, n, concurrency))
        label = "AsyncClient"
    elif impl == "httpx":
        secs = asyncio.run(bulk_httpx(s, n, concurrency))
        label = "asyncio + httpx (hand-written)"
    else:
        raise SystemExit(f"unknown bulk impl {impl!r}")
    return {
        "case": "bulk",
        "lang": "python",
        "impl": label,
        "n": n,
        "concurrency": concurrency,
        "seconds": secs,
        "peak_rss_kb": peak_rss_kb(),
    }


def singleflight(n: int) -> dict[str, Any]:
    import ctt_onboard as ctt

    s = sim()
    before = sim_state(s)["token_requests"]["reseller"]

    async def go() -> int:
        async with ctt.AsyncClient(**ctt_kwargs(s)) as client:
            rid = s["reseller_id"]
            out = await asyncio.gather(
                *(client.sbc_gateways(rid) for _ in range(n)), return_exceptions=True
            )
            return sum(1 for o in out if isinstance(o, BaseException))

    failed = asyncio.run(go())
    after = sim_state(s)["token_requests"]["reseller"]
    return {
        "case": "singleflight",
        "lang": "python",
        "impl": "AsyncClient",
        "calls": n,
        "failed": failed,
        "token_requests": after - before,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["latency", "bulk", "singleflight"])
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--impl", default="ctt")
    p.add_argument("--concurrency", type=int, default=64)
    a = p.parse_args()
    if a.case == "latency":
        out = latency(a.warmup, a.n or 2000)
    elif a.case == "bulk":
        out = bulk(a.impl, a.n or 10_000, a.concurrency)
    else:
        out = singleflight(a.n or 1000)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
