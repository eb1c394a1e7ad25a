"""The Python cases of the benchmarks; each invocation prints one JSON object.

The simulator's JSON line is in ``CTT_SIM`` (the driver, ``bench/run.py``, starts ``ctt-sim``).

    python bench.py latency --warmup 200 --n 2000 --blocks 4
    python bench.py bulk --impl ctt|aiohttp|httpx --n 10000 --concurrency 64
    python bench.py singleflight --n 1000

The hand-written baselines are what a user would write without this SDK: a password grant, then
one request per call with ``requests.Session``, a plain ``urllib3.PoolManager``, ``httpx.Client``
(latency), or, for bulk, ``aiohttp`` (one ``ClientSession`` with a ``TCPConnector`` sized to the
concurrency) and asyncio + ``httpx.AsyncClient``; each parses the JSON answer of ``sbc_gateways``
and reads the others' bodies as text.

Latency interleaves the implementations in one process: every implementation is warmed up, then
``--blocks`` rounds run ``n / blocks`` calls of each implementation in turn (A B C A B C ...), so
drift in the machine's load lands on all of them alike. The no-IO probes of the per-call
breakdown (``probes``: a native getter, ``reseller_id()`` answered without a request, the model
building alone) take their turns in the same blocks.
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
        {
            "grant_type": "password",
            "username": s["username"],
            "password": s["password"],
        },
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


async def time_calls_async(
    warmup: int, n: int, call: Callable[[], Awaitable[Any]]
) -> list[float]:
    for _ in range(warmup):
        await call()
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t = clock()
        await call()
        out.append((clock() - t) * 1e6)
    return out


def latency(warmup: int, n: int, blocks: int) -> dict[str, Any]:
    import ctt_onboard as ctt
    import httpx
    import requests
    import urllib3

    s = sim()
    rid = s["reseller_id"]
    name = f"Py Latency {os.getpid()}"
    loop = asyncio.new_event_loop()
    url, auth, form = token_form(s)
    gw = gateways_url(s)
    aiu = s["base_url"] + "/enterprise/getActionItemUrl"
    body = {
        "actionType": "REGISTRATION",
        "enterpriseName": name,
        "redirectUrl": REDIRECT,
    }

    client = ctt.Client(**ctt_kwargs(s))
    client.create_enterprise(ctt.NewEnterprise(enterprise_name=name, services=["SMS"]))

    async def open_async() -> Any:
        return ctt.AsyncClient(**ctt_kwargs(s))

    aclient = loop.run_until_complete(open_async())

    def sync_of(call: Callable[[], Awaitable[Any]]) -> Callable[[int], list[float]]:
        return lambda k: loop.run_until_complete(time_calls_async(0, k, call))

    session = requests.Session()
    r = session.post(url, auth=auth, data=form)
    r.raise_for_status()
    token = r.json()["access_token"]
    session.headers["Authorization"] = "Bearer " + token

    def req_gw() -> Any:
        r = session.get(gw)
        r.raise_for_status()
        return r.json()

    def req_url() -> str:
        r = session.post(aiu, json=body)
        r.raise_for_status()
        return r.text

    pm = urllib3.PoolManager(headers={"Authorization": "Bearer " + token})

    def u3_gw() -> Any:
        r = pm.request("GET", gw)
        if r.status != 200:
            raise RuntimeError(f"sbc_gateways: {r.status}")
        return json.loads(r.data)

    def u3_url() -> str:
        r = pm.request("POST", aiu, json=body)
        if r.status != 200:
            raise RuntimeError(f"action_item_url: {r.status}")
        return r.data.decode()

    hc = httpx.Client(headers={"Authorization": "Bearer " + token})

    def hx_gw() -> Any:
        r = hc.get(gw)
        r.raise_for_status()
        return r.json()

    def hx_url() -> str:
        r = hc.post(aiu, json=body)
        r.raise_for_status()
        return r.text

    def plain(call: Callable[[], Any]) -> Callable[[int], list[float]]:
        return lambda k: time_calls(0, k, call)

    impls: list[tuple[str, str, Callable[[int], list[float]]]] = [
        *probes(client, aclient, loop, u3_items(pm, gw)),
        ("Client", "sbc_gateways", plain(lambda: client.sbc_gateways(rid))),
        (
            "Client",
            "action_item_url",
            plain(lambda: client.action_item_url("REGISTRATION", name, REDIRECT)),
        ),
        ("AsyncClient", "sbc_gateways", sync_of(lambda: aclient.sbc_gateways(rid))),
        (
            "AsyncClient",
            "action_item_url",
            sync_of(lambda: aclient.action_item_url("REGISTRATION", name, REDIRECT)),
        ),
        ("requests.Session", "sbc_gateways", plain(req_gw)),
        ("requests.Session", "action_item_url", plain(req_url)),
        ("urllib3.PoolManager", "sbc_gateways", plain(u3_gw)),
        ("urllib3.PoolManager", "action_item_url", plain(u3_url)),
        ("httpx.Client", "sbc_gateways", plain(hx_gw)),
        ("httpx.Client", "action_item_url", plain(hx_url)),
    ]
    samples = interleave(impls, warmup, n, blocks)

    loop.run_until_complete(aclient.aclose())
    loop.close()
    client.close()
    session.close()
    pm.clear()
    hc.close()
    results = [result(impl, op, samples[(impl, op)]) for impl, op, _ in impls]
    return {"case": "latency", "blocks": blocks, "results": results}


def result(impl: str, op: str, samples: list[float]) -> dict[str, Any]:
    """One implementation's samples; a probe (``probe:<name>``) says what it calls."""
    if not op.startswith("probe:"):
        return {"lang": "python", "impl": impl, "op": op, "samples_us": samples}
    name = op.removeprefix("probe:")
    return {
        "kind": "probe",
        "lang": "python",
        "impl": impl,
        "probe": name,
        "call": PROBE_CALLS[name].format(impl=impl),
        "batch": PROBE_BATCH,
        **({"hops": PROBE_HOPS} if name == "hops" else {}),
        "samples_us": samples,
    }


#: Calls per probe sample: a probe takes about a microsecond, so a sample is the mean of a batch
#: (``perf_counter`` itself costs tens of nanoseconds).
PROBE_BATCH = 50

#: What each probe of the per-call breakdown calls (bench/NOTES.md, "Where the time goes").
PROBE_CALLS = {
    "crossing": "NativeClient.base_url (a native getter returning a str)",
    "noio": "{impl}.reseller_id() with the reseller id in the options (no request)",
    "noio-native": (
        "NativeClient.reseller_id() or NativeClient.call({{'call': 'resellerId'}}), "
        "whichever this build has (the native call without the Python layer)"
    ),
    "convert": "_native.build_models('SbcGateway', items) (each gateway's JSON text)",
    "convert-empty": "_native.build_models('SbcGateway', [])",
    "echo-null": "{impl}._call({{'call': '__probe', 'hops': 0, 'echo': None}})",
    "echo-result": (
        "{impl}._call({{'call': '__probe', 'hops': 0, 'echo': <the gateways>}}, SbcGateway): "
        "the gateways converted in as an argument and out as SbcGateway instances"
    ),
    "hops": "{impl}._call({{'call': '__probe', 'hops': 4, 'echo': None}})",
}


def u3_items(pm: Any, url: str) -> list[str]:
    """The gateways ``sbc_gateways`` answers, each as its own JSON text."""
    r = pm.request("GET", url)
    return [json.dumps(item) for item in json.loads(r.data)]


def batched(call: Callable[[], Any]) -> Callable[[int], list[float]]:
    """``k`` samples, each the mean microseconds of ``PROBE_BATCH`` calls."""

    def run(k: int) -> list[float]:
        clock = time.perf_counter
        out = []
        for _ in range(k):
            t = clock()
            for _ in range(PROBE_BATCH):
                call()
            out.append((clock() - t) * 1e6 / PROBE_BATCH)
        return out

    return run


def probes(
    client: Any, aclient: Any, loop: asyncio.AbstractEventLoop, items: list[str]
) -> list[tuple[str, str, Callable[[int], list[float]]]]:
    """The no-IO probes of the per-call breakdown, with what this build of the binding exposes
    (a probe whose entry point is gone is left out, and the breakdown says it is missing)."""
    import ctt_onboard as ctt
    from ctt_onboard import _native

    out: list[tuple[str, str, Callable[[int], list[float]]]] = []

    def abatched(call: Callable[[], Awaitable[Any]]) -> Callable[[int], list[float]]:
        async def run(k: int) -> list[float]:
            clock = time.perf_counter
            samples = []
            for _ in range(k):
                t = clock()
                for _ in range(PROBE_BATCH):
                    await call()
                samples.append((clock() - t) * 1e6 / PROBE_BATCH)
            return samples

        return lambda k: loop.run_until_complete(run(k))

    native: Any = getattr(client, "native", None)
    anative: Any = getattr(aclient, "native", None)
    if hasattr(native, "base_url"):
        out.append(("Client", "probe:crossing", batched(lambda: native.base_url)))
    out.append(("Client", "probe:noio", batched(client.reseller_id)))
    if hasattr(native, "reseller_id"):
        out.append(("Client", "probe:noio-native", batched(native.reseller_id)))
    elif hasattr(native, "call"):
        rid = {"call": "resellerId"}
        out.append(("Client", "probe:noio-native", batched(lambda: native.call(rid))))
    if hasattr(anative, "base_url"):
        out.append(("AsyncClient", "probe:crossing", batched(lambda: anative.base_url)))
    out.append(("AsyncClient", "probe:noio", abatched(aclient.reseller_id)))
    build = getattr(_native, "build_models", None)
    if build is not None:
        for impl in ("Client", "AsyncClient"):
            out.append(
                (impl, "probe:convert", batched(lambda: build("SbcGateway", items)))
            )
            out.append(
                (impl, "probe:convert-empty", batched(lambda: build("SbcGateway", [])))
            )
    # Core's hidden ClientCall `__probe` (no request: answers `echo` after `hops` wake-ups from
    # another thread), through the same `_call` every generated method uses.
    model = getattr(ctt, "SbcGateway", None)
    gateways = [json.loads(t) for t in items]
    null = {"call": "__probe", "hops": 0, "echo": None}
    echo = {"call": "__probe", "hops": 0, "echo": gateways}
    hops = {"call": "__probe", "hops": PROBE_HOPS, "echo": None}
    if hasattr(client, "_call") and probe_answers(lambda: client._call(echo, model)):
        out.append(("Client", "probe:echo-null", batched(lambda: client._call(null))))
        out.append(
            ("Client", "probe:echo-result", batched(lambda: client._call(echo, model)))
        )
        out.append(("Client", "probe:hops", batched(lambda: client._call(hops))))
    if hasattr(aclient, "_call") and probe_answers(
        lambda: loop.run_until_complete(aclient._call(echo, model))
    ):
        out.append(
            ("AsyncClient", "probe:echo-null", abatched(lambda: aclient._call(null)))
        )
        out.append(
            (
                "AsyncClient",
                "probe:echo-result",
                abatched(lambda: aclient._call(echo, model)),
            )
        )
        out.append(("AsyncClient", "probe:hops", abatched(lambda: aclient._call(hops))))
    return out


#: Wake-ups the `hops` probe asks core's `__probe` for (one wake-up = its cost over `echo-null`,
#: divided by this).
PROBE_HOPS = 4


def probe_answers(call: Callable[[], Any]) -> bool:
    """Whether this build answers core's `__probe` (a core or binding without it raises)."""
    try:
        return bool(call())
    except Exception:  # noqa: BLE001 (any failure means: no such probe in this build)
        return False


def interleave(
    impls: list[tuple[str, str, Callable[[int], list[float]]]],
    warmup: int,
    n: int,
    blocks: int,
) -> dict[tuple[str, str], list[float]]:
    """Warms each implementation up, then runs ``blocks`` rounds of ``n / blocks`` timed calls
    of each in turn; the samples of each, pooled over the rounds."""
    for _, _, run in impls:
        run(warmup)
    out: dict[tuple[str, str], list[float]] = {(i, o): [] for i, o, _ in impls}
    per = max(1, n // max(1, blocks))
    for _ in range(max(1, blocks)):
        for impl, op, run in impls:
            out[(impl, op)].extend(run(per))
    return out


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
                enterprise_name=name,
                services=["SMS", "CHAT"],
                restrict_admin_access=True,
            )
            await client.create_enterprise(e)
            await client.action_item_url("REGISTRATION", name, REDIRECT)

        t = time.perf_counter()
        await pool(n, concurrency, one)
        return time.perf_counter() - t


async def bulk_httpx(s: dict[str, Any], n: int, concurrency: int) -> float:
    import httpx

    prefix = f"Httpx Bulk {os.getpid()}"
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency
    )
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
                json={
                    "actionType": "REGISTRATION",
                    "enterpriseName": name,
                    "redirectUrl": REDIRECT,
                },
            )
            r.raise_for_status()

        t = time.perf_counter()
        await pool(n, concurrency, one)
        return time.perf_counter() - t


async def bulk_aiohttp(s: dict[str, Any], n: int, concurrency: int) -> float:
    import aiohttp

    prefix = f"Aiohttp Bulk {os.getpid()}"
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        url, (cid, secret), form = token_form(s)
        basic = {"Authorization": aiohttp.encode_basic_auth(cid, secret)}
        async with session.post(url, headers=basic, data=form) as r:
            r.raise_for_status()
            token = (await r.json())["access_token"]
        headers = {"Authorization": "Bearer " + token}
        base = s["base_url"]

        async def one(i: int) -> None:
            name = f"{prefix} {i}"
            async with session.post(
                base + "/reseller/newEnterprise",
                json={
                    "enterpriseName": name,
                    "services": ["SMS", "CHAT"],
                    "restrictAdminAccess": True,
                },
                headers=headers,
            ) as r:
                r.raise_for_status()
                int(await r.text())
            async with session.post(
                base + "/enterprise/getActionItemUrl",
                json={
                    "actionType": "REGISTRATION",
                    "enterpriseName": name,
                    "redirectUrl": REDIRECT,
                },
                headers=headers,
            ) as r:
                r.raise_for_status()
                await r.text()

        t = time.perf_counter()
        await pool(n, concurrency, one)
        return time.perf_counter() - t


def bulk(impl: str, n: int, concurrency: int) -> dict[str, Any]:
    s = sim()
    if impl == "ctt":
        secs = asyncio.run(bulk_ctt(s, n, concurrency))
        label = "AsyncClient"
    elif impl == "aiohttp":
        secs = asyncio.run(bulk_aiohttp(s, n, concurrency))
        label = "aiohttp"
    elif impl == "httpx":
        secs = asyncio.run(bulk_httpx(s, n, concurrency))
        label = "asyncio + httpx"
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
    p.add_argument("--blocks", type=int, default=4, help="latency: interleaved rounds")
    a = p.parse_args()
    if a.case == "latency":
        out = latency(a.warmup, a.n or 2000, a.blocks)
    elif a.case == "bulk":
        out = bulk(a.impl, a.n or 10_000, a.concurrency)
    else:
        out = singleflight(a.n or 1000)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
