"""Crash-soak driver: onboards a batch of enterprises, saving every flow after every call.

It is a provider's worker as it should be written: each flow's JSON and revision live in SQLite,
every save is a compare-and-swap on the revision, ``advance`` saves through its checkpoint after
every step and before the create (so a kill right after the create finds the "create sent"
marker, and the flow looks its own enterprise up instead of sending another), a callback is
written to an inbox before it is handled, and every change is one transaction. The supervisor
(``crash_soak.py``) kills this process with SIGKILL at random moments and starts it again; it
must pick every flow up where the database says it was.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import urllib.request
from typing import Any

from ctt_onboard import (
    AwaitingAdmin,
    CallbackInvalidError,
    Client,
    Complete,
    CttError,
    EnterpriseCredentials,
    FlowStateError,
    ManualClock,
    NewEnterprise,
    Onboarding,
    OnboardingPlan,
    ResellerCredentials,
    RetryPolicy,
    Service,
    WaitingUntil,
)

CALLBACK_KEY = "crash-soak-callback-key-0123456789"
TENANTS = ["contoso", "fabrikam", "northwind"]
SERVICE_SETS = [
    [Service.PBX, Service.SMS],
    [Service.TRUNK],
    [Service.PBX, Service.CALL_APP],
    [Service.SMS, Service.CHAT],
]


def sync_clock(clock: ManualClock, base_url: str) -> None:
    """Moves the client's clock up to the simulator's (``POST /_sim/clock`` with 0 seconds
    answers the simulator's time without moving it)."""
    sim_now = float(sim_post(base_url, "/_sim/clock", {"advance_secs": 0}))
    ahead = sim_now - clock.now()
    if ahead > 0:
        clock.advance(ahead)


def sim_post(base_url: str, path: str, payload: dict[str, Any]) -> Any:
    """POSTs JSON to the simulator's control API and returns the decoded answer."""
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS flows (name TEXT PRIMARY KEY, tenant TEXT, batch INTEGER,"
        " json TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 0,"
        " complete INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE TABLE IF NOT EXISTS inbox (name TEXT, url TEXT, body TEXT)")
    return db


def plan_for(name: str, i: int) -> OnboardingPlan:
    plan = OnboardingPlan(
        enterprise=NewEnterprise(
            enterprise_name=name, services=SERVICE_SETS[i % len(SERVICE_SETS)]
        ),
        redirect_url="https://portal.example/ctt/callback",
    )
    plan.gateway_regions = ["US-East"]
    return plan


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--sim", required=True, help="the simulator's JSON line")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--flows", type=int, required=True)
    args = parser.parse_args()
    sim = json.loads(args.sim)
    db = open_db(args.db)

    for i in range(args.flows):
        name = f"Crash {args.batch}-{i}"
        tenant = f"{TENANTS[i % len(TENANTS)]}+crash{args.batch}-{i}"
        if db.execute("SELECT 1 FROM flows WHERE name = ?", (name,)).fetchone() is None:
            flow = Onboarding(plan_for(name, i))
            db.execute(
                "INSERT OR IGNORE INTO flows (name, tenant, batch, json, revision)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, tenant, args.batch, flow.to_json(), flow.revision),
            )

    # The client's clock follows the simulator's across the 30-minute wait. The simulator's clock
    # is the one truth, read again on every start: an offset of the driver's own, saved apart
    # from moving the simulator, drifted from it whenever a kill fell between the two, and once
    # the drift passed the MSAL tokens' lifetime every fresh sign-in looked expired to the flow,
    # which asked for another one forever.
    clock = ManualClock()
    sync_clock(clock, sim["base_url"])
    client = Client(
        base_url=sim["base_url"],
        reseller=ResellerCredentials(
            client_id=sim["client_id"],
            client_secret=sim["client_secret"],
            username=sim["username"],
            password=sim["password"],
        ),
        enterprise=EnterpriseCredentials(
            client_id=sim["client_id"],
            client_secret=sim["client_secret"],
            username=sim["enterprise_username"],
            password=sim["enterprise_password"],
        ),
        callback_key=CALLBACK_KEY,
        clock=clock,
        retry=RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.2),
    )

    def save(
        name: str, flow: Onboarding, previous: int, complete: bool = False
    ) -> None:
        """Compare-and-swap on the revision: this is the only writer, so a stale row is a bug."""
        cursor = db.execute(
            "UPDATE flows SET json = ?, revision = ?, complete = ? WHERE name = ? AND revision = ?",
            (flow.to_json(), flow.revision, int(complete), name, previous),
        )
        if cursor.rowcount == 0:
            raise FlowStateError(
                f"{name}: the stored flow is no longer at revision {previous}"
            )

    def step(name: str, tenant: str, flow: Onboarding) -> bool:
        """One advance of ``flow`` and what it asks for; False when the flow waits, is complete
        or failed (the next pass resumes it)."""
        saved = [flow.revision]

        def checkpoint(snapshot: Onboarding, previous: int) -> None:
            save(name, snapshot, previous)
            saved[0] = snapshot.revision

        try:
            progress = flow.advance(client, checkpoint)
        except CttError:
            save(name, flow, saved[0])
            return False
        save(name, flow, saved[0], complete=isinstance(progress, Complete))
        if isinstance(progress, AwaitingAdmin):
            callback = sim_post(
                sim["base_url"],
                "/_sim/approve",
                {"url": progress.url, "tenant": tenant},
            )
            body = json.dumps(callback["body"])
            db.execute(
                "INSERT INTO inbox (name, url, body) VALUES (?, ?, ?)",
                (name, callback["url"], body),
            )
            loaded = flow.revision
            flow.handle_callback(client, callback["url"], body)
            db.execute("BEGIN")
            save(name, flow, loaded)
            db.execute("DELETE FROM inbox WHERE name = ?", (name,))
            db.execute("COMMIT")
            return True
        if isinstance(progress, WaitingUntil):
            wait = progress.not_before.timestamp() - clock.now() + 1
            if wait > 0:
                sim_post(
                    sim["base_url"], "/_sim/clock", {"advance_secs": int(wait) + 1}
                )
                sync_clock(clock, sim["base_url"])
        return False

    while True:
        pending = db.execute(
            "SELECT name, tenant, json FROM flows WHERE complete = 0 AND batch = ? ORDER BY name",
            (args.batch,),
        ).fetchall()
        if not pending:
            return 0
        for name, tenant, text in pending:
            flow = Onboarding.from_json(text)
            # Callbacks received before a crash are handled first.
            for rowid, url, body in db.execute(
                "SELECT rowid, url, body FROM inbox WHERE name = ?", (name,)
            ).fetchall():
                loaded = flow.revision
                try:
                    flow.handle_callback(client, url, body)
                except CallbackInvalidError:
                    # Its ask expired meanwhile (the simulator's clock jumps across waits): the
                    # flow asks again, and the admin clicks again.
                    db.execute("DELETE FROM inbox WHERE rowid = ?", (rowid,))
                    continue
                db.execute("BEGIN")
                save(name, flow, loaded)
                db.execute("DELETE FROM inbox WHERE rowid = ?", (rowid,))
                db.execute("COMMIT")
            # Advance this flow until it needs time or is done: a callback is confirmed by the
            # next advance at once, before another flow's wait moves the simulator's clock past
            # the sign-in's lifetime.
            for _ in range(50):
                if not step(name, tenant, flow):
                    break


if __name__ == "__main__":
    sys.exit(main())
