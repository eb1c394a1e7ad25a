"""Crash soak: a driver onboards enterprises while this supervisor SIGKILLs it at random moments.

The driver (``crash_driver.py``, the Python binding) saves each flow's JSON after every call.
This supervisor starts the simulator as a process of its own (so it outlives every kill), runs
the driver, kills it ``--kills`` times at random moments (including mid-request), restarts it
each time, and at the end counts in the simulator: flows complete, enterprises per flow (must
be 1), consents lost (must be 0). Exit status 1 when any of that fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from typing import Any

REQUIRED = {
    "GET_USER_SYNC_CONSENT",
    "GET_PRESENCE_CONSENT",
    "GET_AGENT_CONSENT",
    "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
}


def state(base_url: str) -> Any:
    with urllib.request.urlopen(base_url + "/_sim/state", timeout=30) as response:
        return json.loads(response.read().decode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sim-bin", required=True, help="path to the ctt-sim binary")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--flows", type=int, default=40, help="flows per batch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-life", type=float, default=0.05)
    parser.add_argument("--max-life", type=float, default=0.6)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash_driver.py")

    sim = subprocess.Popen(
        [args.sim_bin, "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if not line:
            print("crash-soak: the simulator did not start", file=sys.stderr)
            return 1
        base_url = json.loads(line)["base_url"]
        workdir = tempfile.mkdtemp(prefix="ctt-crash-soak-")
        db_path = os.path.join(workdir, "flows.db")
        kills = 0
        starts = 0
        batch = 0
        started = time.monotonic()
        while True:
            command = [
                sys.executable,
                driver,
                "--db",
                db_path,
                "--sim",
                line.strip(),
                "--batch",
                str(batch),
                "--flows",
                str(args.flows),
            ]
            proc = subprocess.Popen(command)
            starts += 1
            if kills < args.kills:
                try:
                    code = proc.wait(timeout=rng.uniform(args.min_life, args.max_life))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    continue
            else:
                code = proc.wait(timeout=900)
            if code != 0:
                print(
                    f"crash-soak: the driver failed with exit code {code}",
                    file=sys.stderr,
                )
                return 1
            if kills >= args.kills:
                break
            batch += 1  # this batch is done before the kills are: start another
        elapsed = time.monotonic() - started

        db = sqlite3.connect(db_path)
        flows = db.execute("SELECT name, json, complete FROM flows").fetchall()
        inbox_left = db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]
        world = state(base_url)
        per_name = Counter(e["name"] for e in world["enterprises"])
        by_id = {e["name"]: e for e in world["enterprises"]}
        consents = Counter((c["enterprise_id"], c["action"]) for c in world["consents"])
        complete = sum(1 for _, _, c in flows if c)
        duplicates = sum(1 for name, _, _ in flows if per_name[name] > 1)
        missing = sum(1 for name, _, _ in flows if per_name[name] == 0)
        lost = 0
        regranted = 0
        for name, text, _ in flows:
            enterprise = by_id.get(name)
            if enterprise is None:
                continue
            services = json.loads(text)["plan"]["enterprise"]["services"]
            required = set(REQUIRED) | (
                {"GET_CALL_APP_CONSENT"} if "CALLAPP" in services else set()
            )
            for action in required:
                n = consents[(enterprise["id"], action)]
                if n == 0:
                    lost += 1
                northwind = (enterprise.get("tenant_id") or "").startswith("6ec0bd7f")
                allowed = (
                    2
                    if northwind and action == "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT"
                    else 1
                )
                regranted += max(0, n - allowed)
            if not enterprise["managed_by_provider"]:
                lost += 1
        print(
            f"crash soak: seed {args.seed}, {kills} SIGKILLs over {starts} driver starts, {elapsed:.1f} s"
        )
        print(f"  flows                      {len(flows)} in {batch + 1} batches")
        print(f"  flows complete             {complete}")
        print(f"  enterprises duplicated     {duplicates}")
        print(f"  enterprises missing        {missing}")
        print(f"  consents lost              {lost}")
        print(
            f"  consents granted again     {regranted} (an admin click whose callback died with the driver)"
        )
        print(f"  callbacks left in inbox    {inbox_left}")
        ok = (
            complete == len(flows)
            and duplicates == 0
            and missing == 0
            and lost == 0
            and kills >= args.kills
        )
        print(f"crash-soak: {int(ok)} passed, {int(not ok)} failed")
        return 0 if ok else 1
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
