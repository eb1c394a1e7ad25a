"""Runs every benchmark case, prints one table and its verdicts, and (with --write) writes
BENCHMARKS.md: the table, the machine's facts and the summary sentences, all from this one run.

Built artifacts come from ``bench/setup.sh <profile>`` (``make bench`` / ``make test-bench``).
Every case process runs against a fresh simulator process (``ctt-sim``, faults off), so a bulk
run never meets the enterprises of another and a case's peak RSS is its own. Standard library only.

Interleaving, so that drift in the machine's load lands on every implementation alike:
- latency: ``--runs`` rounds; each round runs one process per language (rust, python, node,
  kotlin, in that order), and inside each process the implementations alternate in ``--blocks``
  blocks of calls (A B C A B C ...) after each has been warmed up;
- bulk: ``--runs`` rounds; each round runs every implementation once, one process each, binding
  then its baselines (A B A B ... over the rounds).
Medians are of the samples pooled over the rounds (latency) or of the per-round throughputs
(bulk); ratios are of those medians, and the per-round ratios (same round) give their spread.

    python bench/run.py --profile release --write BENCHMARKS.md     # make bench
    python bench/run.py --profile debug --quick                     # make test-bench
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRIPLE = "x86_64-unknown-linux-gnu"


def cpu_layout() -> tuple[set[int] | None, set[int] | None]:
    """(simulator CPUs, client CPUs). With two or more CPUs the simulator gets the last one and
    the client process the others, so the two never take turns on one core and the scheduler's
    placement does not change from one run to the next: on the 2-core machine, unpinned latency
    medians of the same build moved between ~48 and ~104 us from run to run, pinned ones stay
    within about 10%. With one CPU, or without affinity support, nothing is pinned."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None, None
    if len(cpus) < 2:
        return None, None
    return {cpus[-1]}, set(cpus[:-1])


SIM_CPUS, CLIENT_CPUS = cpu_layout()


def pinned(cpus: set[int] | None) -> Any:
    """A ``preexec_fn`` that pins the child process to ``cpus`` (None: no pinning). This driver
    starts no threads, so ``preexec_fn`` is safe here."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


class Sim:
    """``ctt-sim`` as its own process; its JSON line goes to the cases in ``CTT_SIM``."""

    def __init__(self, binary: Path) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pinned(SIM_CPUS),  # noqa: PLW1509 (no threads in this driver)
        )
        assert self.proc.stdout is not None
        self.line = self.proc.stdout.readline().strip()
        if not self.line:
            raise SystemExit("ctt-sim printed nothing")
        self.info = json.loads(self.line)

    def __enter__(self) -> Sim:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# Bulk: (language, implementation flag, hand-written?) in the order each round runs them.
BULK_CASES: list[tuple[str, str, bool]] = [
    ("rust", "raw", True),
    ("rust", "core", False),
    ("python", "ctt", False),
    ("python", "aiohttp", True),
    ("python", "httpx", True),
    ("node", "ctt", False),
    ("node", "undici", True),
    ("node", "fetch", True),
    ("kotlin", "ctt", False),
    ("kotlin", "jdk", True),
    ("kotlin", "okhttp", True),
]


class Bench:
    def __init__(
        self, profile: str, quick: bool, runs: int, httpx_runs: int, blocks: int
    ) -> None:
        self.httpx_runs = httpx_runs
        self.profile = profile
        self.quick = quick
        self.runs = runs
        self.blocks = blocks
        tdir = ROOT / "target" / TRIPLE / profile
        self.sim_bin = tdir / "ctt-sim"
        self.rust_bin = tdir / "ctt-bench"
        self.python = ROOT / "bench" / ".venv" / "bin" / "python"
        self.out = ROOT / "bench" / "out" / profile
        self.node_path = self.out / "node_modules"
        kt = ROOT / "bench" / "kotlin" / "target"
        cp = (kt / "classpath.txt").read_text().strip()
        self.kotlin_cp = f"{kt / 'ctt-bench-kotlin.jar'}:{cp}"
        self.kotlin_jar = kt / "ctt-bench-kotlin-binding.jar"
        self.results: dict[str, Any] = {
            "latency": [],
            "bulk": [],
            "simload": [],
            "singleflight": [],
            "flow": None,
            "coldstart": {},
            "sizes": {},
        }
        self.warnings: list[str] = []

    # ---- running one case in one process ----
    def cmd(self, lang: str, args: list[str]) -> list[str]:
        if lang == "rust":
            return [str(self.rust_bin), *args]
        if lang == "python":
            return [
                str(self.python),
                str(ROOT / "bench" / "python" / "bench.py"),
                *args,
            ]
        if lang == "node":
            return ["node", str(ROOT / "bench" / "node" / "bench.cjs"), *args]
        if lang == "kotlin":
            return [
                "java",
                "-cp",
                self.kotlin_cp,
                "dev.cttonboard.bench.BenchKt",
                *args,
            ]
        raise ValueError(lang)

    def case(self, lang: str, args: list[str], timeout: float = 1800) -> dict[str, Any]:
        with Sim(self.sim_bin) as sim:
            env = dict(os.environ, CTT_SIM=sim.line, NODE_PATH=str(self.node_path))
            t = time.monotonic()
            done = subprocess.run(
                self.cmd(lang, args),
                check=False,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                preexec_fn=pinned(CLIENT_CPUS),
            )
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if done.returncode != 0:
                sys.stderr.write(done.stderr[-3000:])
                if not lines:
                    raise SystemExit(
                        f"{lang} {' '.join(args)} failed ({done.returncode})"
                    )
                # The case finished and printed its result, then the process died (seen: the
                # Python binding's runtime threads at interpreter exit). Keep the figure, report it.
                warning = f"{lang} {' '.join(args)}: exited with {done.returncode} after its result"
                print(f"  WARNING {warning}", flush=True)
                self.warnings.append(warning)
            result: dict[str, Any] = json.loads(lines[-1])
            print(
                f"  {lang:7} {' '.join(args):45} {time.monotonic() - t:6.1f} s",
                flush=True,
            )
            return result

    # ---- the cases ----
    def latency(self) -> None:
        n, warmup = (40, 10) if self.quick else (2000, 300)
        rounds = self.runs
        pooled: dict[tuple[str, str, str], list[float]] = {}
        per_round: dict[tuple[str, str, str], list[float]] = {}
        for _ in range(rounds):
            for lang in ("rust", "python", "node", "kotlin"):
                # The JVM's JIT takes far longer to settle than V8's or CPython's warm-up: the
                # Kotlin binding's own cost per call halves between 1,500 and 20,000 warm-up
                # calls (bench/kotlin `overhead`). Kotlin rows are the settled figure, as in a
                # long-running portal or billing service; every JVM implementation gets the
                # same warm-up.
                w = 20_000 if lang == "kotlin" and not self.quick else warmup
                r = self.case(
                    lang,
                    [
                        "latency",
                        "--warmup",
                        str(w),
                        "--n",
                        str(n),
                        "--blocks",
                        str(self.blocks),
                    ],
                )
                for item in r["results"]:
                    key = (item["lang"], item["impl"], item["op"])
                    pooled.setdefault(key, []).extend(item["samples_us"])
                    per_round.setdefault(key, []).append(
                        statistics.median(item["samples_us"])
                    )
        for (lang, impl, op), samples in pooled.items():
            self.results["latency"].append(
                {
                    "lang": lang,
                    "impl": impl,
                    "op": op,
                    "runs": rounds,
                    "blocks": self.blocks,
                    "round_medians": per_round[(lang, impl, op)],
                    **stats(samples),
                }
            )

    def bulk(self) -> None:
        n = 100 if self.quick else 10_000
        per_s: dict[tuple[str, str], list[float]] = {}
        rss: dict[tuple[str, str], list[float]] = {}
        labels: dict[tuple[str, str], str] = {}
        for k in range(self.runs):
            for lang, flag, _ in BULK_CASES:
                # The asyncio + httpx baseline takes minutes per run at 10,000: --httpx-runs.
                if flag == "httpx" and k >= self.httpx_runs:
                    continue
                r = self.case(
                    lang, ["bulk", "--impl", flag, "--n", str(n), "--concurrency", "64"]
                )
                per_s.setdefault((lang, flag), []).append(r["n"] / r["seconds"])
                rss.setdefault((lang, flag), []).append(r["peak_rss_kb"] / 1024)
                labels[(lang, flag)] = r["impl"]
        for lang, flag, hand in BULK_CASES:
            xs = per_s.get((lang, flag))
            if not xs:
                continue
            st = stats(xs)
            self.results["bulk"].append(
                {
                    "lang": lang,
                    "flag": flag,
                    "impl": labels[(lang, flag)],
                    "handwritten": hand,
                    "n": n,
                    "runs": len(xs),
                    "round_per_s": xs,
                    "per_s_median": st["median"],
                    "per_s_p10": st["p10"],
                    "per_s_p90": st["p90"],
                    "per_s_min": st["min"],
                    "per_s_max": st["max"],
                    "peak_rss_mb": statistics.median(rss[(lang, flag)]),
                }
            )

    def simload(self) -> None:
        n = 2000 if self.quick else 100_000
        runs = 1 if self.quick else self.runs
        rows = [
            self.case("rust", ["simload", "--n", str(n), "--concurrency", "64"])
            for _ in range(runs)
        ]
        rps = [r["n"] / r["seconds"] for r in rows]
        self.results["simload"].append(
            {
                "impl": rows[0]["impl"],
                "n": n,
                "runs": runs,
                "rps_median": statistics.median(rps),
                "rps_min": min(rps),
                "rps_max": max(rps),
            }
        )

    def singleflight(self) -> None:
        for lang in ("rust", "python", "node", "kotlin"):
            self.results["singleflight"].append(
                self.case(lang, ["singleflight", "--n", "1000"])
            )

    def flow(self) -> None:
        flows, iters = (500, 50) if self.quick else (10_000, 2000)
        self.results["flow"] = self.case(
            "rust", ["flow", "--flows", str(flows), "--iters", str(iters)]
        )

    def coldstart(self) -> None:
        reps = 3 if self.quick else 15
        py = [str(self.python), "-c"]
        timer = (
            "import time; t=time.perf_counter(); import {m}; "
            "print((time.perf_counter()-t)*1000)"
        )
        node_timer = (
            "const t=process.hrtime.bigint(); require('{m}'); "
            "console.log(Number(process.hrtime.bigint()-t)/1e6)"
        )
        env = dict(os.environ, NODE_PATH=str(self.node_path))
        probes = {
            "import ctt_onboard": py + [timer.format(m="ctt_onboard")],
            # What the package itself adds to an application that already uses the standard
            # modules it imports (dataclasses, logging, json, enum, re).
            "import ctt_onboard (stdlib already loaded)": [
                *py,
                "import dataclasses, logging, json, enum, re; "
                + timer.format(m="ctt_onboard"),
            ],
            "import requests (reference)": py + [timer.format(m="requests")],
            "import httpx (reference)": py + [timer.format(m="httpx")],
            "require('ctt-onboard')": [
                "node",
                "-e",
                node_timer.format(m="ctt-onboard"),
            ],
        }
        cs = self.results["coldstart"]
        for name, argv in probes.items():
            samples = []
            for _ in range(reps):
                done = subprocess.run(
                    argv,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    preexec_fn=pinned(CLIENT_CPUS),
                )
                samples.append(float(done.stdout.strip().splitlines()[-1]))
            cs[name] = stats(samples)
        kreps = 2 if self.quick else 7
        rows = [self.case("kotlin", ["coldstart"]) for _ in range(kreps)]
        cs["first Kotlin call (build + 1 call)"] = stats(
            [r["first_call_ms"] for r in rows]
        )
        cs["JVM start to first Kotlin call answered"] = stats(
            [float(r["jvm_uptime_ms"]) for r in rows]
        )
        print("  coldstart done", flush=True)

    def sizes(self) -> None:
        s = self.results["sizes"]
        wheels = glob.glob(str(self.out / "wheels" / "*.whl"))
        if wheels:
            s["wheel"] = os.path.getsize(wheels[0])
            with zipfile.ZipFile(wheels[0]) as z:
                s["wheel: _native .so (unzipped)"] = sum(
                    i.file_size for i in z.infolist() if i.filename.endswith(".so")
                )
        addons = glob.glob(str(self.node_path / "ctt-onboard" / "native" / "*.node"))
        if addons:
            s[".node addon"] = os.path.getsize(addons[0])
        if self.kotlin_jar.exists():
            s["jar (binding classes + .so)"] = os.path.getsize(self.kotlin_jar)


def stats(samples: list[float]) -> dict[str, float]:
    xs = sorted(samples)

    def q(p: float) -> float:
        return xs[min(len(xs) - 1, max(0, round(p * (len(xs) - 1))))]

    return {
        "n": len(xs),
        "median": statistics.median(xs),
        "p10": q(0.10),
        "p90": q(0.90),
        "min": xs[0],
        "max": xs[-1],
    }


# ---------------------------------------------------------------- the table

# Latency: the bindings, and each language's hand-written clients.
BINDINGS = {
    "python": ["Client", "AsyncClient"],
    "node": ["Client"],
    "kotlin": ["Client"],
}
LAT_HAND = {
    "rust": ["raw reqwest"],
    "python": ["requests.Session", "urllib3.PoolManager", "httpx.Client"],
    "node": ["fetch", "undici Pool.request"],
    "kotlin": ["java.net.http.HttpClient", "OkHttp"],
}
# Issue 16's per-call targets besides "<= 1.15x raw reqwest" for every binding (and the core).
LAT_TARGETS: dict[tuple[str, str], list[tuple[str, str, float]]] = {
    ("kotlin", "Client"): [("kotlin", "java.net.http.HttpClient", 1.0)],
    ("python", "AsyncClient"): [("python", "Client", 1.1)],
}
# Issue 16's bulk targets: (language, binding) -> [(baseline language, baseline impl, ">=" factor)].
BULK_TARGETS: dict[tuple[str, str], list[tuple[str, str, float]]] = {
    ("python", "AsyncClient"): [("python", "aiohttp", 3.0)],
    ("node", "Client"): [("node", "undici Pool.request", 2.0)],
    ("kotlin", "Client"): [
        ("kotlin", "java.net.http.HttpClient sendAsync", 3.0),
        ("rust", "raw reqwest", 0.8),
    ],
}


class Verdict:
    """One target of one row: what was compared, the ratio of the medians, met or not."""

    def __init__(
        self,
        group: str,
        case: str,
        impl: str,
        target: str,
        met: bool,
        ratio: float | None = None,
        limit: float | None = None,
        sense: str = "",
        detail: str = "",
    ) -> None:
        self.group, self.case, self.impl, self.target = group, case, impl, target
        self.met, self.ratio, self.limit, self.sense, self.detail = (
            met,
            ratio,
            limit,
            sense,
            detail,
        )

    def margin(self) -> str:
        """By how much the ratio is over or under its limit, in words."""
        if self.ratio is None or self.limit is None:
            return ""
        if self.sense == "<=":
            d = self.ratio / self.limit - 1
            return f"{abs(d) * 100:.0f}% {'over' if d > 0 else 'under'} the limit"
        d = 1 - self.ratio / self.limit
        return f"{abs(d) * 100:.0f}% {'short of' if d > 0 else 'above'} the target"

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def mark(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def paired(a: list[float], b: list[float]) -> tuple[float, float] | None:
    """Min and max of the per-round ratios a[i] / b[i] (rounds run side by side)."""
    rs = [x / y for x, y in zip(a, b, strict=False) if y]
    return (min(rs), max(rs)) if rs else None


def fmt_ratio(ratio: float, rng: tuple[float, float] | None) -> str:
    """A ratio of medians, with the min-max of the per-round ratios when there are several."""
    return f"{ratio:.2f}x" + (f" (rounds {rounds(rng)})" if rng else "")


def rounds(rng: tuple[float, float] | None) -> str:
    if rng is None:
        return "-"
    return (
        f"{rng[0]:.2f}x"
        if round(rng[0], 2) == round(rng[1], 2)
        else (f"{rng[0]:.2f}-{rng[1]:.2f}x")
    )


def table(r: dict[str, Any]) -> tuple[str, list[Verdict]]:
    rows: list[list[str]] = []
    verdicts: list[Verdict] = []

    def row(
        case: str,
        impl: str,
        median: str,
        spread: str,
        vs_raw: str,
        vs_hand: str,
        target: str,
        status: str,
    ) -> None:
        rows.append([case, impl, median, spread, vs_raw, vs_hand, target, status])

    lat = {(x["lang"], x["impl"], x["op"]): x for x in r["latency"]}
    for op in ("sbc_gateways", "action_item_url"):
        raw = lat.get(("rust", "raw reqwest", op))
        if raw is None:
            continue
        case = f"1. latency {op}"
        fastest: dict[str, dict[str, Any]] = {}
        for lang, hands in LAT_HAND.items():
            have = [lat[(lang, h, op)] for h in hands if (lang, h, op) in lat]
            if have:
                fastest[lang] = min(have, key=lambda x: x["median"])
        for (lang, impl, o), x in lat.items():
            if o != op:
                continue
            ratio = x["median"] / raw["median"]
            vs_raw = fmt_ratio(ratio, paired(x["round_medians"], raw["round_medians"]))
            is_binding = impl in BINDINGS.get(lang, []) or (lang, impl) == (
                "rust",
                "core client",
            )
            hand = fastest.get(lang)
            vs_hand = "-"
            if is_binding and hand is not None and lang != "rust":
                hr = x["median"] / hand["median"]
                vs_hand = f"{fmt_ratio(hr, paired(x['round_medians'], hand['round_medians']))} {hand['impl']}"
            elif hand is not None and hand is x and lang != "rust":
                vs_hand = "(fastest hand-written)"
            checks: list[Verdict] = []
            if is_binding:
                rng = paired(x["round_medians"], raw["round_medians"])
                checks.append(
                    Verdict(
                        "latency",
                        case,
                        f"{lang}: {impl}",
                        "<= 1.15x raw reqwest",
                        ratio <= 1.15,
                        ratio,
                        1.15,
                        "<=",
                        f"{x['median']:.0f} vs {raw['median']:.0f} us; per round {rounds(rng)}",
                    )
                )
                for blang, bimpl, limit in LAT_TARGETS.get((lang, impl), []):
                    b = lat.get((blang, bimpl, op))
                    if b is None:
                        continue
                    br = x["median"] / b["median"]
                    rng = paired(x["round_medians"], b["round_medians"])
                    checks.append(
                        Verdict(
                            "latency",
                            case,
                            f"{lang}: {impl}",
                            f"<= {limit}x {bimpl}",
                            br <= limit,
                            br,
                            limit,
                            "<=",
                            f"{x['median']:.0f} vs {b['median']:.0f} us; per round {rounds(rng)}",
                        )
                    )
            verdicts += checks
            rm = x["round_medians"]
            spread = f"{x['p10']:.0f}-{x['p90']:.0f} us / rounds {min(rm):.0f}-{max(rm):.0f} us"
            row(
                case,
                f"{lang}: {impl}",
                f"{x['median']:.0f} us",
                spread,
                vs_raw,
                vs_hand,
                "; ".join(c.target for c in checks) or "(baseline)",
                "; ".join(f"{mark(c.met)} {c.target}" for c in checks),
            )

    bulk = r["bulk"]
    by = {(b["lang"], b["impl"]): b for b in bulk}
    raw_b = by.get(("rust", "raw reqwest"))
    fastest_b: dict[str, dict[str, Any]] = {}
    for b in bulk:
        if b["handwritten"] and (
            b["lang"] not in fastest_b
            or b["per_s_median"] > fastest_b[b["lang"]]["per_s_median"]
        ):
            fastest_b[b["lang"]] = b
    for b in bulk:
        case = f"2. bulk {b['n']} x (create + URL), c=64"
        vs_raw = "-"
        if raw_b:
            vs_raw = fmt_ratio(
                b["per_s_median"] / raw_b["per_s_median"],
                paired(b["round_per_s"], raw_b["round_per_s"]),
            )
        hand = fastest_b.get(b["lang"])
        vs_hand = "-"
        if not b["handwritten"] and hand is not None and b["lang"] != "rust":
            hr = b["per_s_median"] / hand["per_s_median"]
            vs_hand = f"{fmt_ratio(hr, paired(b['round_per_s'], hand['round_per_s']))} {hand['impl']}"
        elif hand is b and b["lang"] != "rust":
            vs_hand = "(fastest hand-written)"
        checks = []
        for blang, bimpl, factor in BULK_TARGETS.get((b["lang"], b["impl"]), []):
            base = by.get((blang, bimpl))
            if base is None:
                continue
            br = b["per_s_median"] / base["per_s_median"]
            rng = paired(b["round_per_s"], base["round_per_s"])
            checks.append(
                Verdict(
                    "bulk",
                    case,
                    f"{b['lang']}: {b['impl']}",
                    f">= {factor}x {bimpl}",
                    br >= factor,
                    br,
                    factor,
                    ">=",
                    f"{b['per_s_median']:,.0f} vs {base['per_s_median']:,.0f} "
                    f"enterprises/s; per round {rounds(rng)}",
                )
            )
        verdicts += checks
        spread = (
            f"{b['per_s_p10']:.0f}-{b['per_s_p90']:.0f} / {b['per_s_min']:.0f}-"
            f"{b['per_s_max']:.0f} ({b['runs']} rounds); RSS {b['peak_rss_mb']:.0f} MB"
        )
        row(
            case,
            f"{b['lang']}: {b['impl']}",
            f"{b['per_s_median']:.0f} ent/s",
            spread,
            vs_raw,
            vs_hand,
            "; ".join(c.target for c in checks)
            or ("(baseline)" if b["handwritten"] else "-"),
            "; ".join(f"{mark(c.met)} {c.target}" for c in checks),
        )

    def simple(
        case: str, impl: str, median: str, spread: str, target: str, ok: bool | None
    ) -> None:
        row(case, impl, median, spread, "-", "-", target, mark(ok))
        if ok is not None:
            verdicts.append(Verdict("other", case, impl, target, ok, detail=median))

    for s in r["simload"]:
        simple(
            "3. simulator alone",
            s["impl"] + ", c=64",
            f"{s['rps_median']:.0f} req/s",
            f"{s['rps_min']:.0f}-{s['rps_max']:.0f}",
            "(ceiling)",
            None,
        )

    for s in r["singleflight"]:
        simple(
            "4. token single flight, 1000 first calls",
            f"{s['lang']}: {s['impl']}",
            f"{s['token_requests']} token request(s)",
            f"{s['failed']} failed",
            "exactly 1",
            s["token_requests"] == 1 and s["failed"] == 0,
        )

    f = r["flow"]
    if f:
        biggest = max(x["bytes"] for x in f["sizes"])
        steps = ", ".join(str(x["bytes"]) for x in f["sizes"])
        simple(
            "5. flow state JSON",
            "rust: Onboarding.to_json",
            f"max {biggest} B",
            f"per step: {steps}",
            "<= 4 KB",
            biggest <= 4096,
        )
        simple(
            "5. flow to_json / from_json",
            "rust",
            f"{f['to_json_us']:.1f} / {f['from_json_us']:.1f} us",
            f"final state {f['final_bytes']} B",
            "-",
            None,
        )
        simple(
            "5. memory per in-flight flow",
            f"rust: {f['flows']} flows held",
            f"{f['rss_per_flow_bytes'] / 1024:.2f} KB",
            f"JSON {f['in_flight_bytes']} B each",
            "<= 16 KB",
            f["rss_per_flow_bytes"] <= 16 * 1024,
        )

    for name, x in r["coldstart"].items():
        target = (
            "<= 50 ms"
            if name in ("import ctt_onboard", "require('ctt-onboard')")
            else "-"
        )
        simple(
            "6. cold start",
            name,
            f"{x['median']:.1f} ms",
            f"{x['min']:.1f}-{x['max']:.1f} ms",
            target,
            x["median"] <= 50 if target != "-" else None,
        )
    for name, size in r["sizes"].items():
        target = "<= 8 MB" if name == "wheel" else "-"
        simple(
            "6. size",
            name,
            f"{size / 1024 / 1024:.2f} MB",
            "-",
            target,
            size <= 8 * 1024 * 1024 if target != "-" else None,
        )

    head = [
        "case",
        "implementation",
        "median",
        (
            "spread (latency: p10-p90 of calls / min-max of round medians; bulk: p10-p90 / "
            "min-max of rounds)"
        ),
        "vs raw reqwest",
        "vs fastest hand-written (same language)",
        "target",
        "status",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in rw) + " |" for rw in rows]
    return "\n".join(lines), verdicts


def summary(
    r: dict[str, Any], verdicts: list[Verdict], meta: dict[str, Any]
) -> list[str]:
    """The prose of the report, every figure in it taken from this run's results."""
    out: list[str] = []
    missed = [v for v in verdicts if not v.met]
    if meta.get("quick"):
        out += [
            (
                f"**This is a quick smoke run** (`--quick`, {meta['profile']} builds, tiny counts): "
                "it checks that every case and baseline runs; its figures are not results."
            ),
            "",
        ]
    out.append(f"**Targets met: {len(verdicts) - len(missed)} of {len(verdicts)}.**")
    out.append("")
    for group, title in (
        (
            "bulk",
            (
                "Bulk (issue 16's targets; ratios of the median throughputs, "
                "each with the min-max of the per-round ratios)"
            ),
        ),
        (
            "latency",
            (
                "Per call (ratios of the median latencies, pooled over "
                "the rounds; each with the min-max of the per-round ratios)"
            ),
        ),
    ):
        vs = [v for v in verdicts if v.group == group]
        if not vs:
            continue
        out.append(f"{title}:")
        out.append("")
        for v in vs:
            where = "" if group == "bulk" else f" ({v.case.split()[-1]})"
            out.append(
                f"- {mark(v.met)}: `{v.impl}`{where} {v.target}: {v.ratio:.2f}x "
                f"({v.detail}), {v.margin()}."
            )
        out.append("")
    others = [v for v in verdicts if v.group == "other"]
    if others:
        ok = [v for v in others if v.met]
        out.append(
            f"Other targets: {len(ok)} of {len(others)} met"
            + (
                ""
                if len(ok) == len(others)
                else "; missed: "
                + "; ".join(
                    f"{v.case} {v.impl} ({v.detail}, {v.target})"
                    for v in others
                    if not v.met
                )
            )
            + "."
        )
        out.append("")

    # Which hand-written client was fastest in each language, in this run.
    bits = []
    for lang in ("python", "node", "kotlin"):
        lat = [
            x
            for x in r["latency"]
            if x["lang"] == lang
            and x["impl"] in LAT_HAND[lang]
            and x["op"] == "sbc_gateways"
        ]
        blk = [b for b in r["bulk"] if b["lang"] == lang and b["handwritten"]]
        part = []
        if lat:
            f = min(lat, key=lambda x: x["median"])
            part.append(f"per call {f['impl']} ({f['median']:.0f} us, sbc_gateways)")
        if blk:
            f = max(blk, key=lambda b: b["per_s_median"])
            part.append(f"bulk {f['impl']} ({f['per_s_median']:,.0f} enterprises/s)")
        if part:
            bits.append(f"{lang}: " + ", ".join(part))
    if bits:
        out.append(
            "Fastest hand-written client per language in this run: "
            + "; ".join(bits)
            + "."
        )
        out.append("")
    if r["simload"] and r["bulk"]:
        ceiling = r["simload"][0]["rps_median"]
        top = max(r["bulk"], key=lambda b: b["per_s_median"])
        need = 2 * top["per_s_median"]
        out.append(
            f"The simulator alone served {ceiling:,.0f} requests/s (case 3); the fastest bulk "
            f"implementation (`{top['lang']}: {top['impl']}`, {top['per_s_median']:,.0f} "
            f"enterprises/s) needed {need:,.0f} requests/s, "
            + (
                "below that ceiling."
                if need < ceiling
                else "at or above that ceiling: case 2 may be limited by the simulator."
            )
        )
        out.append("")
    lb, la = meta.get("load_before", "?"), meta.get("load_after", "?")
    try:
        quiet = float(lb.split()[0]) < 1.5 and float(la.split()[0]) < 1.5
        q = (
            "under 1.5 before and after (issue 16's condition for a quiet machine)"
            if quiet
            else "not under 1.5 before and after: issue 16's condition for a quiet machine "
            "does not hold for this run, so read the ratios, not single medians"
        )
    except (ValueError, IndexError):
        q = "unknown"
    out.append(
        f"Load average (1, 5, 15 min) before / after: {lb} / {la}: one-minute load {q}."
    )
    out.append("")
    return out


def versions() -> dict[str, str]:
    def out(argv: list[str]) -> str:
        try:
            done = subprocess.run(
                argv, check=False, capture_output=True, text=True, timeout=60
            )
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    lock = (ROOT / "Cargo.lock").read_text()

    def locked(name: str) -> str:
        m = re.search(rf'name = "{name}"\nversion = "([^"]+)"', lock)
        return m.group(1) if m else "?"

    py = ROOT / "bench" / ".venv" / "bin" / "python"
    pyver = out(
        [
            str(py),
            "-c",
            (
                "import sys, importlib.metadata as m; print(sys.version.split()[0], ' '.join("
                "f'{p} {m.version(p)}' for p in ('requests', 'urllib3', 'httpx', 'aiohttp')))"
            ),
        ]
    )
    try:
        undici = json.loads(
            (
                ROOT / "bench" / "node" / "node_modules" / "undici" / "package.json"
            ).read_text()
        )["version"]
    except (OSError, ValueError, KeyError):
        undici = "?"
    pom = (ROOT / "bench" / "kotlin" / "pom.xml").read_text()
    okm = re.search(r"<okhttp.version>([^<]+)<", pom)
    return {
        "ctt-onboard": locked("ctt-onboard"),
        "rustc": out(["rustc", "--version"]),
        "reqwest": locked("reqwest"),
        "python": pyver,
        "node": out(["node", "--version"]) + f" undici {undici}",
        "java": out(["java", "-version"]) + f"; OkHttp {okm.group(1) if okm else '?'}",
    }


def machine() -> str:
    """The machine's facts, for the report's header."""
    model = "?"
    mem = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    pin = (
        f"simulator pinned to CPU {sorted(SIM_CPUS)}, every client process to CPU "
        f"{sorted(CLIENT_CPUS)} (see `cpu_layout` in bench/run.py)"
        if SIM_CPUS and CLIENT_CPUS
        else "no CPU pinning (one CPU, or no affinity support)"
    )
    return (
        f"`nproc` = {os.cpu_count()} ({model}), {mem} of memory, kernel "
        f"{platform.release()}; {pin}"
    )


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--profile", choices=["release", "debug"], default="release")
    p.add_argument(
        "--quick", action="store_true", help="tiny counts (the smoke run of make test)"
    )
    p.add_argument(
        "--runs", type=int, help="interleaved rounds (default 3; --quick: 2)"
    )
    p.add_argument(
        "--blocks", type=int, help="latency: blocks per process (default 4; --quick: 2)"
    )
    p.add_argument(
        "--httpx-runs",
        type=int,
        help="rounds of the slow asyncio + httpx bulk baseline",
    )
    p.add_argument(
        "--only", choices=["latency", "bulk"], help="run only this case (targeted runs)"
    )
    p.add_argument("--write", help="write the report (BENCHMARKS.md) here")
    p.add_argument("--json", help="write the raw results here")
    p.add_argument(
        "--from-json",
        help="render the table and report from a --json file of an earlier run (no new run)",
    )
    a = p.parse_args()
    runs = a.runs or (2 if a.quick else 3)
    blocks = a.blocks or (2 if a.quick else 4)
    httpx_runs = a.httpx_runs or runs

    if a.from_json:
        saved = json.loads(Path(a.from_json).read_text())
        results, warnings, meta = saved["results"], saved["warnings"], saved["meta"]
    else:
        b = Bench(a.profile, a.quick, runs, httpx_runs, blocks)
        started = datetime.datetime.now(datetime.UTC)
        load_before = loadavg()
        print(
            f"benchmarks ({a.profile}{', quick' if a.quick else ''}; {runs} rounds, "
            f"{blocks} latency blocks per process), load average {load_before}",
            flush=True,
        )
        if a.only in (None, "latency"):
            b.latency()
        if a.only in (None, "bulk"):
            if a.only is None:
                b.simload()
            b.bulk()
        if a.only is None:
            b.sizes()
            b.singleflight()
            b.flow()
            b.coldstart()
        load_after = loadavg()
        print(f"load average after: {load_after}", flush=True)
        results, warnings = b.results, b.warnings
        meta = {
            "started": started.isoformat(),
            "load_before": load_before,
            "load_after": load_after,
            "profile": a.profile,
            "quick": a.quick,
            "runs": runs,
            "blocks": blocks,
            "httpx_runs": min(httpx_runs, runs),
            "machine": machine(),
            "versions": versions(),
        }
    text, verdicts = table(results)
    prose = summary(results, verdicts, meta)
    print()
    print(text)
    print()
    print("\n".join(prose))
    for w in warnings:
        print(f"WARNING: {w}")
    if a.json:
        saved = {
            "results": results,
            "warnings": warnings,
            "meta": meta,
            "verdicts": [v.to_json() for v in verdicts],
        }
        Path(a.json).write_text(json.dumps(saved, indent=1))
    if a.write:
        write_report(Path(a.write), text, prose, warnings, meta)


def write_report(
    path: Path, text: str, prose: list[str], warnings: list[str], meta: dict[str, Any]
) -> None:
    started = datetime.datetime.fromisoformat(meta["started"])
    kind = "A quick smoke run" if meta["quick"] else "One full run"
    body = [
        "# Benchmarks",
        "",
        (
            "Written by `bench/run.py` from one run: the table, the summary and every figure in "
            "them come from that run; nothing here is edited by hand."
        ),
        "",
        (
            f"{kind} of `bench/run.py` ({meta['profile']} builds; {meta['runs']} interleaved rounds, "
            f"the slow asyncio + httpx bulk baseline in {meta['httpx_runs']} of them; latency in "
            f"{meta['blocks']} alternating blocks per process), {started:%Y-%m-%d %H:%M} UTC."
        ),
        "",
        f"Machine: {meta['machine']}.",
        f"Load average before / after: {meta['load_before']} / {meta['load_after']}.",
        "",
        "Versions: "
        + "; ".join(f"{k} {val}" for k, val in meta["versions"].items())
        + ".",
        "",
        (
            "Method. Every case process runs against its own fresh `ctt-sim` process (faults off) on "
            "127.0.0.1. Latency: sequential calls on one keep-alive connection; in each round one "
            "process per language, in which every implementation is warmed up and then the "
            "implementations take turns in blocks of calls (A B C A B C), samples pooled over the "
            "rounds. Bulk: 10,000 enterprises (100 in a quick run), each created then its "
            "REGISTRATION URL asked for, 64 at a time; each round runs every implementation once, "
            "in its own process (A B A B over the rounds); throughput in enterprises per second, peak "
            "RSS of the client process. Ratios are of medians from this run; the per-round ratios "
            "(implementations of the same round) give their spread. `raw reqwest` is the hand-written "
            "Rust floor; every binding is also compared with the fastest hand-written client of its "
            "own language in this run. The hand-written clients are described in bench/README.md."
        ),
        "",
        text,
        "",
        "## Summary",
        "",
        *prose,
    ]
    if warnings:
        body += [
            "Processes that crashed after printing their result (figures kept):",
            "",
        ]
        body += [f"- {w}" for w in warnings] + [""]
    body += [
        (
            "Analysis of where the time goes is in bench/NOTES.md; its figures are from the dated "
            "runs it names, not from this one."
        ),
        "",
    ]
    path.write_text("\n".join(body))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
