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

Before the run it waits (``--max-wait``) for issue 16's quiet machine, a one-minute load average
under 1.5, and reports the load before and after (``wait_for_quiet``). The latency cases also time
no-IO probes in the same blocks, from which ``breakdown`` splits each binding call into IO, core,
FFI crossing, runtime hand-off and conversion (bench/README.md, "Where the time goes").

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
import resource
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
            "probes": [],
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
        # The no-IO probes of the per-call breakdown, timed in the same blocks (breakdown()).
        p_pooled: dict[tuple[str, str, str], list[float]] = {}
        p_round: dict[tuple[str, str, str], list[float]] = {}
        p_what: dict[tuple[str, str, str], dict[str, Any]] = {}
        for _ in range(rounds):
            for lang in ("rust", "python", "node", "kotlin"):
                # The JVM's JIT takes far longer to settle than V8's or CPython's warm-up: the
                # Kotlin binding's own cost per call halves between 1,500 and 20,000 warm-up
                # calls (its no-IO probes). Kotlin rows are the settled figure, as in a
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
                    if item.get("kind") == "probe":
                        key = (item["lang"], item["impl"], item["probe"])
                        p_pooled.setdefault(key, []).extend(item["samples_us"])
                        p_round.setdefault(key, []).append(
                            statistics.median(item["samples_us"])
                        )
                        p_what[key] = {
                            k: item[k] for k in ("call", "batch", "items") if k in item
                        }
                        continue
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
        for (lang, impl, probe), samples in p_pooled.items():
            self.results["probes"].append(
                {
                    "lang": lang,
                    "impl": impl,
                    "probe": probe,
                    **p_what[(lang, impl, probe)],
                    "round_medians": p_round[(lang, impl, probe)],
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
        subject: tuple[str, str] | None = None,
        base: tuple[str, str] | None = None,
        op: str | None = None,
    ) -> None:
        self.group, self.case, self.impl, self.target = group, case, impl, target
        self.met, self.ratio, self.limit, self.sense, self.detail = (
            met,
            ratio,
            limit,
            sense,
            detail,
        )
        # (language, implementation) of the row judged and of its baseline, and the latency op:
        # what attainable() needs to look the figures up again.
        self.subject, self.base, self.op = subject, base, op

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
                        (lang, impl),
                        ("rust", "raw reqwest"),
                        op,
                    )
                )
                for blang, bimpl, limit in LAT_TARGETS.get((lang, impl), []):
                    bx = lat.get((blang, bimpl, op))
                    if bx is None:
                        continue
                    br = x["median"] / bx["median"]
                    rng = paired(x["round_medians"], bx["round_medians"])
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
                            f"{x['median']:.0f} vs {bx['median']:.0f} us; per round {rounds(rng)}",
                            (lang, impl),
                            (blang, bimpl),
                            op,
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
        elif hand is not None and hand is b and b["lang"] != "rust":
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
                    (b["lang"], b["impl"]),
                    (blang, bimpl),
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


# ---------------------------------------------------------------- where the time goes

# The parts of one binding call, in the order they are shown; each is measured (bench/NOTES.md,
# "Where the time goes"): the IO is raw reqwest's call (the Rust process of the same round), the
# core's layer is the core client over raw reqwest (same process), the rest comes from the no-IO
# probes each language's latency case times in the same blocks as its real calls.
PARTS = [
    ("io", "IO: raw reqwest"),
    ("core", "core's layer (core client - raw)"),
    ("crossing", "FFI crossing (native getter)"),
    ("wrapper", "host wrapper (noio - noio-native)"),
    ("handoff", "runtime hand-off (no-IO call - crossing)"),
    ("rest", "rest: call - core client - no-IO call"),
    ("convert", "conversion alone (of the rest)"),
    ("unexplained", "unexplained (rest - conversion)"),
]


class Part:
    """One part of the breakdown: its value from the medians, and its value in each round (the
    same subtraction of that round's medians), whose min-max is the part's spread."""

    def __init__(self, value: float, per_round: list[float], note: str = "") -> None:
        self.value, self.per_round, self.note = value, per_round, note

    def __sub__(self, other: Part) -> Part:
        return Part(
            self.value - other.value,
            [a - b for a, b in zip(self.per_round, other.per_round, strict=False)],
        )

    def scaled(self, k: float) -> Part:
        return Part(self.value * k, [x * k for x in self.per_round], self.note)

    def __add__(self, other: Part) -> Part:
        return Part(
            self.value + other.value,
            [a + b for a, b in zip(self.per_round, other.per_round, strict=False)],
        )

    def cell(self) -> str:
        # Two decimals below 10 us: a crossing of 0.07 us would otherwise read as 0.1.
        f = ".2f" if abs(self.value) < 10 else ".1f"
        rng = ""
        if len(self.per_round) > 1:
            lo, hi = min(self.per_round), max(self.per_round)
            rng = f" (rounds {lo:{f}} to {hi:{f}})"
        return f"{self.value:{f}}{rng}{self.note}"


def part_of(x: dict[str, Any]) -> Part:
    return Part(x["median"], list(x["round_medians"]))


def breakdown(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each binding call split into its measured parts (us per call), for each latency op.

    total = IO + core's layer + no-IO call + rest, exactly (the rest is the remainder); the no-IO
    call = crossing + (Python's wrapper) + hand-off, exactly. The conversion is then measured
    alone where the binding lets it be (Python: the model building, with Rust's serde share
    timed in ctt-bench; Kotlin: the Kotlin read of the result; Node: only Rust's serde share),
    and what the rest holds beyond it is shown as unexplained, not guessed."""
    lat = {(x["lang"], x["impl"], x["op"]): x for x in r["latency"]}
    pr = {(x["lang"], x["impl"], x["probe"]): x for x in r.get("probes", [])}
    rows = []
    for op in ("sbc_gateways", "action_item_url"):
        raw, core = (
            lat.get(("rust", "raw reqwest", op)),
            lat.get(("rust", "core client", op)),
        )
        if raw is None or core is None:
            continue
        for lang, impls in BINDINGS.items():
            for impl in impls:
                x = lat.get((lang, impl, op))
                if x is None:
                    continue

                def probe(name: str, lg: str = lang, im: str = impl) -> Part | None:
                    p = pr.get((lg, im, name))
                    return part_of(p) if p is not None else None

                total, io = part_of(x), part_of(raw)
                parts: dict[str, Part | None] = {"io": io, "core": part_of(core) - io}
                missing: list[str] = []
                crossing, noio = probe("crossing"), probe("noio")
                native = probe("noio-native")
                parts["crossing"] = crossing
                inner: Part | None = noio
                parts["wrapper"] = None
                if noio is not None and native is not None:
                    parts["wrapper"] = noio - native
                    inner = native
                parts["handoff"] = (
                    inner - crossing
                    if inner is not None and crossing is not None
                    else None
                )
                rest = total - part_of(core) - noio if noio is not None else None
                parts["rest"] = rest
                convert, how = conversion(lang, impl, op, probe)
                parts["convert"] = convert
                parts["unexplained"] = (
                    rest - convert if rest is not None and convert is not None else None
                )
                for name in ("crossing", "noio"):
                    if pr.get((lang, impl, name)) is None:
                        missing.append(name)
                rows.append(
                    {
                        "lang": lang,
                        "impl": impl,
                        "op": op,
                        "total": total,
                        "parts": parts,
                        "convert_how": how,
                        "missing": missing,
                    }
                )
    return rows


def conversion(lang: str, impl: str, op: str, probe: Any) -> tuple[Part | None, str]:
    """The conversion of the `sbc_gateways` result measured alone, and how; None where the
    binding has no entry point that converts a result without a call."""
    if op != "sbc_gateways":
        return None, "the result is a string: no conversion probe"
    to_value = probe("to-value", "rust", "core client")
    if lang == "python":
        built, empty = probe("convert"), probe("convert-empty")
        parse = probe("parse-items", "rust", "core client")
        if built is None or empty is None or parse is None or to_value is None:
            return None, "no `_native.build_models` in this build"
        return (
            built - empty - parse + to_value,
            (
                "build_models(items) - build_models([]) - parsing the items' text (Rust) "
                "+ serde_json::to_value of the result (Rust)"
            ),
        )
    if lang == "kotlin":
        read = probe("convert")
        if read is None:
            return None, "no generated FfiConverterSequenceTypeSbcGateway in this build"
        return (
            Part(read.value, read.per_round, " (Kotlin half)"),
            (
                "the generated converter's read of the result from a ByteBuffer; the Rust half "
                "(writing the RustBuffer) and JNA's access to it are not measured alone"
            ),
        )
    if lang == "node" and to_value is not None:
        return (
            Part(to_value.value, to_value.per_round, " (Rust half)"),
            (
                "serde_json::to_value of the result (Rust, where every call's result goes "
                "through) only: the rest of the result's way into JavaScript objects has no entry "
                "point without a call (the __probe echo of the second table covers it both ways)"
            ),
        )
    return None, "no probe"


def echo_table(r: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """What core's hidden ClientCall `__probe` shows in each binding that forwards it: one
    wake-up from another thread (a blocking-pool task finishing, as an IO completion wakes a
    call), and the conversion of the gateways both ways (in as the argument `echo`, out as the
    result), each apart from IO."""
    pr = {(x["lang"], x["impl"], x["probe"]): x for x in r.get("probes", [])}
    unexplained = {
        (row["lang"], row["impl"]): row["parts"].get("unexplained")
        or row["parts"].get("rest")
        for row in rows
        if row["op"] == "sbc_gateways"
    }
    lines = []
    for lang, impls in BINDINGS.items():
        for impl in impls:
            null = pr.get((lang, impl, "echo-null"))
            echo = pr.get((lang, impl, "echo-result"))
            hops = pr.get((lang, impl, "hops"))
            if null is None or echo is None or hops is None:
                continue
            n = hops.get("hops", 4)
            one = (part_of(hops) - part_of(null)).scaled(1 / n)
            both = part_of(echo) - part_of(null)
            rest = unexplained.get((lang, impl))
            worth = (
                f"{rest.value / one.value:.1f}"
                if rest is not None and one.value > 0
                else "-"
            )
            lines.append(
                f"| {lang}: {impl} | {part_of(null).cell()} | {one.cell()} | {both.cell()} | "
                f"{worth} |"
            )
    if not lines:
        return []
    return [
        "",
        (
            "Through core's hidden ClientCall `__probe` (no request; it answers its `echo` after "
            "`hops` wake-ups from another thread), where the binding forwards it: "
            "`echo-null` is a whole no-IO call through the binding's generic call path; one "
            "wake-up = (`hops` - `echo-null`) / hops; the conversion both ways = `echo` of the "
            "gateways - `echo-null` (the gateways cross in as the argument and out as the "
            "result, so the result's conversion alone is at most this); the last column divides "
            "the sbc_gateways row's unexplained part (its rest where no conversion was measured) "
            "by one wake-up."
        ),
        "",
        (
            "| binding | echo-null (no-IO call) | one wake-up | conversion both ways (gateways) "
            "| unexplained / one wake-up |"
        ),
        "|---|---|---|---|---|",
        *lines,
    ]


def breakdown_text(r: dict[str, Any]) -> list[str]:
    """The "where the time goes" section: one table and how each part was measured."""
    rows = breakdown(r)
    if not rows:
        return []
    out = [
        (
            "Microseconds per call, from the medians of this run; in brackets the same "
            "subtraction of each round's medians (min to max). The call is IO + core's layer + "
            "the no-IO call + the rest, exactly; the no-IO call is the crossing + (Python's "
            "wrapper) + the hand-off, exactly. The rest holds what no no-IO probe can show: the "
            "conversion of the result (measured alone where the binding allows, next column) and "
            "the wake-ups the IO itself causes between the binding's threads (a no-IO call never "
            "waits for a socket). A `-` is a part this build gives no way to measure (below)."
        ),
        "",
        "| binding (op) | call | " + " | ".join(label for _, label in PARTS) + " |",
        "|" + "---|" * (len(PARTS) + 2),
    ]
    for row in rows:
        cells = [
            f"{row['lang']}: {row['impl']} ({row['op']})",
            row["total"].cell(),
        ]
        for key, _ in PARTS:
            part = row["parts"].get(key)
            cells.append(part.cell() if part is not None else "-")
        out.append("| " + " | ".join(cells) + " |")
    out += echo_table(r, rows)
    out += [
        "",
        (
            "How each part was measured in this run (probe: what it calls, p10-p90 of its "
            "samples, each sample the mean of a batch of calls):"
        ),
        "",
    ]
    seen: set[tuple[str, str, str]] = set()
    for p in r.get("probes", []):
        probe_key = (p["lang"], p["impl"], p["probe"])
        if probe_key in seen:
            continue
        seen.add(probe_key)
        out.append(
            f"- {p['lang']}: {p['impl']} `{p['probe']}`: {p.get('call', '?')}; median "
            f"{p['median']:.2f} us, p10-p90 {p['p10']:.2f}-{p['p90']:.2f} us "
            f"(batches of {p.get('batch', 1)})."
        )
    gone = {
        f"{row['lang']}: {row['impl']}": row["missing"]
        for row in rows
        if row["missing"]
    }
    if gone:
        out += [
            "",
            "Probes this build of a binding gave no entry point for (their parts show `-`):",
            "",
        ]
        out += [f"- {k}: {', '.join(v)}." for k, v in gone.items()]
    hows = {}
    for row in rows:
        if row["op"] == "sbc_gateways":
            hows[f"{row['lang']}: {row['impl']}"] = row["convert_how"]
    out += ["", "Conversion alone (sbc_gateways):", ""]
    out += [f"- {k}: {v}." for k, v in hows.items()]
    out.append("")
    return out


def attainable(v: Verdict, r: dict[str, Any]) -> str:
    """Whether a missed target can be met at all on this machine, from this run's figures: a
    binding runs the core client, so the core client's own figure in the same run bounds it (its
    latency from below, its throughput from above), and raw reqwest bounds the core."""
    if v.subject is None or v.base is None or v.limit is None:
        return ""
    if v.group == "bulk":
        by = {(b["lang"], b["impl"]): b for b in r["bulk"]}
        me, base = by.get(v.subject), by.get(v.base)
        core, raw = by.get(("rust", "core client")), by.get(("rust", "raw reqwest"))
        if me is None or base is None or core is None or raw is None:
            return ""
        need = v.limit * base["per_s_median"]
        c, w = core["per_s_median"], raw["per_s_median"]
        said = (
            f"it needs {need:,.0f} enterprises/s ({v.limit}x {base['per_s_median']:,.0f}); "
            f"in this run the core client reached {c:,.0f} and raw reqwest {w:,.0f}"
        )
        if r["simload"]:
            said += f", the simulator alone served {r['simload'][0]['rps_median'] / 2:,.0f} (2 requests each)"
        if need > w:
            return (
                f"not attainable on this machine: {said}; even raw reqwest is "
                f"{w / base['per_s_median']:.2f}x {v.base[1]}, below {v.limit}x, and a binding "
                "cannot beat its own core"
            )
        if need > c:
            return (
                f"not attainable by the binding alone: {said}; the core client itself would "
                f"have to be {need / c:.2f}x faster at bulk"
            )
        return (
            f"attainable: {said}; the binding reached {me['per_s_median'] / c:.2f}x of its "
            f"core's throughput and needs {need / c:.2f}x"
        )
    lat = {(x["lang"], x["impl"], x["op"]): x for x in r["latency"]}
    me = lat.get((*v.subject, v.op))
    base = lat.get((*v.base, v.op))
    core = lat.get(("rust", "core client", v.op))
    if me is None or base is None or core is None:
        return ""
    allowed = v.limit * base["median"]
    budget = allowed - core["median"]
    layer = me["median"] - core["median"]
    said = (
        f"{v.limit}x {base['median']:.0f} us allows {allowed:.0f} us per call, and the core "
        f"client alone took {core['median']:.0f} us in the Rust process of the same rounds"
    )
    if budget <= 0:
        return (
            f"not attainable on this machine: {said}, so nothing is left for the binding's "
            "own layer"
        )
    probes = {(x["lang"], x["impl"], x["probe"]): x for x in r.get("probes", [])}
    noio = probes.get((*v.subject, "noio"))
    base_noio = probes.get((*v.base, "noio"))
    where = ""
    if noio is not None and base_noio is not None:
        # A binding judged against another binding (AsyncClient against Client): what their
        # no-IO calls differ by is the part of the gap no IO is needed to show.
        where = (
            f"; its no-IO call alone takes {noio['median'] - base_noio['median']:.1f} us "
            f"more than {v.base[1]}'s ({noio['median']:.1f} against {base_noio['median']:.1f} us)"
        )
    elif noio is not None:
        where = (
            f"; its no-IO call alone is {noio['median']:.1f} us of those {layer:.0f}"
        )
    return (
        f"attainable: {said}, which leaves {budget:.0f} us for the binding's own layer; it "
        f"takes {layer:.0f} us now, {layer - budget:.0f} us too many{where}"
    )


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
            if not v.met and (why := attainable(v, r)):
                out.append(f"  - Attainable here? {why[0].upper()}{why[1:]}.")
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
    out.append(load_sentence(meta))
    out.append("")
    return out


def load_header(meta: dict[str, Any]) -> str:
    """The report header's line on the load: the readings, and whether the condition held."""
    lb, la = meta.get("load_before", "?"), meta.get("load_after", "?")
    one_b, one_a = load1(lb), load1(la)
    held = (
        "unknown"
        if one_b is None or one_a is None
        else "held"
        if one_b < QUIET_LOAD and one_a < QUIET_LOAD
        else "did NOT hold"
    )
    return (
        f"Load average (1, 5, 15 min) before / after: {lb} / {la}; issue 16's quiet-machine "
        f"condition (one-minute load under {QUIET_LOAD} before and after) {held} (Summary)."
    )


def load_sentence(meta: dict[str, Any]) -> str:
    """Whether issue 16's quiet-machine condition held for the run, from its readings."""
    lb, la = meta.get("load_before", "?"), meta.get("load_after", "?")
    one_b, one_a = load1(lb), load1(la)
    if one_b is None or one_a is None:
        return f"Load average (1, 5, 15 min) before / after: {lb} / {la}."
    quiet = one_b < QUIET_LOAD and one_a < QUIET_LOAD
    said = (
        f"Load average (1, 5, 15 min) before / after: {lb} / {la}: the one-minute load was "
        + (
            f"under {QUIET_LOAD} before and after, issue 16's condition for a quiet machine."
            if quiet
            else f"not under {QUIET_LOAD} before and after: issue 16's condition for a quiet "
            "machine does not hold for this run, so read the ratios, not single medians."
        )
    )
    if meta.get("waited_before_s"):
        said += (
            f" The run waited {meta['waited_before_s']} s for the load to fall first."
        )
    if "load_end" in meta:
        said += (
            f" At the run's end it was {meta['load_end']} (the bench's own two processes "
            f"included); the 'after' reading is {meta.get('settled_after_s', 0)} s later."
        )
    if meta.get("others_cpu_s") is not None and meta.get("wall_s"):
        share = meta["others_cpu_s"] / meta["wall_s"]
        said += (
            f" Other processes used {meta['others_cpu_s']:,.0f} CPU-seconds during the "
            f"{meta['wall_s']:,} s of the run ({share:.2f} of a CPU on average; /proc/stat less "
            "the bench's own processes)."
        )
    return said


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


#: Issue 16's quiet machine: a one-minute load average under this, before and after the run.
QUIET_LOAD = 1.5


def load1(text: str) -> float | None:
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def wait_for_quiet(max_wait: float, when: str) -> dict[str, Any]:
    """Waits, up to ``max_wait`` seconds and saying so every 30 s, until the one-minute load
    average is under QUIET_LOAD; returns the load it ends with, how long it waited and whether
    the load was under the limit then. Before the run this keeps a build (``make bench`` runs
    setup.sh first) or another engineer's job out of the figures; after it, the bench's own two
    busy processes fade from the one-minute average within about half a minute when nothing
    else runs, so a load still high then says something else ran."""
    started = time.monotonic()
    told = -30.0
    while True:
        now = loadavg()
        waited = time.monotonic() - started
        one = load1(now)
        if one is None or one < QUIET_LOAD or waited >= max_wait:
            return {
                "load": now,
                "waited_s": round(waited),
                "quiet": one is not None and one < QUIET_LOAD,
            }
        if waited - told >= 30:
            print(
                f"  {when}: waiting for the 1-minute load average ({now}) to fall under "
                f"{QUIET_LOAD} ({waited:.0f} of at most {max_wait:.0f} s)",
                flush=True,
            )
            told = waited
        time.sleep(max(0.1, min(5.0, max_wait - waited)))


def busy_cpu_seconds() -> float | None:
    """CPU seconds every process of the machine has used since boot (/proc/stat: user, nice,
    system, irq, softirq; guest time is inside user), or None without /proc."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this driver and of every case and simulator process it has waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


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
    p.add_argument(
        "--max-wait",
        type=float,
        help=(
            f"seconds to wait, before the run, for the 1-minute load average to fall under "
            f"{QUIET_LOAD} (default 600; --quick: 0, the load is still printed)"
        ),
    )
    p.add_argument(
        "--settle",
        type=float,
        help=(
            "seconds to wait after the run for the bench's own load to fade from the 1-minute "
            "average before reading it (default 180; --quick: 0)"
        ),
    )
    p.add_argument("--write", help="write the report (BENCHMARKS.md) here")
    p.add_argument(
        "--breakdown", help="write the per-call breakdown (markdown) here as well"
    )
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
        max_wait = a.max_wait if a.max_wait is not None else (0 if a.quick else 600)
        settle = a.settle if a.settle is not None else (0 if a.quick else 180)
        before = wait_for_quiet(max_wait, "before the run")
        started = datetime.datetime.now(datetime.UTC)
        load_before = before["load"]
        busy0, own0, wall0 = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()
        print(
            f"benchmarks ({a.profile}{', quick' if a.quick else ''}; {runs} rounds, "
            f"{blocks} latency blocks per process), load average {load_before}"
            + (
                f" (after waiting {before['waited_s']} s)" if before["waited_s"] else ""
            ),
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
        busy1, own1, wall = (
            busy_cpu_seconds(),
            own_cpu_seconds(),
            time.monotonic() - wall0,
        )
        load_end = loadavg()
        print(f"load average at the end: {load_end}", flush=True)
        after = wait_for_quiet(settle, "after the run")
        load_after = after["load"]
        print(
            f"load average after: {load_after} ({after['waited_s']} s after the end)",
            flush=True,
        )
        others = (
            max(0.0, (busy1 - busy0) - (own1 - own0))
            if busy0 is not None and busy1 is not None
            else None
        )
        results, warnings = b.results, b.warnings
        meta = {
            "started": started.isoformat(),
            "load_before": load_before,
            "waited_before_s": before["waited_s"],
            "load_end": load_end,
            "load_after": load_after,
            "settled_after_s": after["waited_s"],
            "quiet": before["quiet"] and after["quiet"],
            "wall_s": round(wall),
            "others_cpu_s": None if others is None else round(others, 1),
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
    where = breakdown_text(results)
    print()
    print(text)
    print()
    print("\n".join(prose))
    if where:
        print("Where the time goes (per call):")
        print()
        print("\n".join(where))
    if a.breakdown and where:
        Path(a.breakdown).write_text(
            "\n".join(
                [
                    "# Where the time goes (per call)",
                    "",
                    (
                        f"From `bench/run.py` ({meta['profile']} builds), {meta['started'][:16]} UTC. "
                        f"{load_sentence(meta)}"
                    ),
                    "",
                    *where,
                ]
            )
        )
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
        write_report(Path(a.write), text, prose + where_section(where), warnings, meta)


def where_section(where: list[str]) -> list[str]:
    if not where:
        return []
    return ["## Where the time goes (per call)", "", *where]


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
        load_header(meta),
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
            "The analysis behind these figures is in bench/NOTES.md; its figures are from the "
            "dated runs it names, not from this one."
        ),
        "",
    ]
    path.write_text("\n".join(body))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
