"""A billing-system job that onboards the enterprises listed in a CSV file.

The pattern a real system uses: the onboarding flow is *data in your own database*. Each run

1. creates a flow for every CSV row that has none yet and stores its JSON in SQLite,
2. applies the callbacks your web endpoint stored since the last run (see ``callback`` below),
3. advances every unfinished flow, saves its JSON again, and prints what to do next: the URL to
   send to the enterprise's Global Admin, the time to run again, or that it is complete.

So the first run creates the enterprises and prints their registration URLs; every later run
resumes each flow from SQLite, and nothing that succeeded is repeated (no enterprise is created
twice). Run it from cron, or after each callback.

Usage (the API and credentials come from the environment, never from the command line)::

    export CTT_BASE_URL=... CTT_CLIENT_ID=... CTT_CLIENT_SECRET=... CTT_USERNAME=... \\
           CTT_PASSWORD=... CTT_ENTERPRISE_USERNAME=... CTT_ENTERPRISE_PASSWORD=... \\
           CTT_CALLBACK_KEY=... CTT_REDIRECT_URL=https://billing.example/ctt/callback
    python billing_batch.py run enterprises.csv onboarding.sqlite3
    # your web endpoint at CTT_REDIRECT_URL stores each callback it receives:
    python billing_batch.py callback onboarding.sqlite3 "<the URL it was called at>" < body.json

``test_examples.py`` runs it against the simulator (``ctt_onboard.testing.Simulator``).
"""

from __future__ import annotations

import csv
import datetime
import os
import sqlite3
import sys

import ctt_onboard as ctt

SCHEMA = """
CREATE TABLE IF NOT EXISTS flows (
    flow_id           TEXT PRIMARY KEY,
    enterprise_name   TEXT NOT NULL UNIQUE,
    billing_reference TEXT,
    -- The flow's JSON holds the Global Admin's MSAL result: protect it like a token
    -- (encrypt the column or the database in production).
    flow_json         TEXT NOT NULL,
    -- new, callback_applied, awaiting_admin, waiting, complete or error
    state             TEXT NOT NULL,
    next_url          TEXT,            -- the URL to send to the Global Admin, when awaiting_admin
    last_error        TEXT,
    updated_at        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callbacks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    url         TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    applied_at  TEXT,
    result      TEXT
);
"""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"billing_batch: set {name} in the environment")
    return value


def make_client() -> ctt.Client:
    """One client for the whole run, configured from the environment."""
    return ctt.Client(
        base_url=env("CTT_BASE_URL"),
        reseller=ctt.ResellerCredentials(
            client_id=env("CTT_CLIENT_ID"),
            client_secret=env("CTT_CLIENT_SECRET"),
            username=env("CTT_USERNAME"),
            password=env("CTT_PASSWORD"),
        ),
        enterprise=ctt.EnterpriseCredentials(
            client_id=env("CTT_CLIENT_ID"),
            client_secret=env("CTT_CLIENT_SECRET"),
            username=env("CTT_ENTERPRISE_USERNAME"),
            password=env("CTT_ENTERPRISE_PASSWORD"),
        ),
        callback_key=env("CTT_CALLBACK_KEY"),
    )


def save(
    db: sqlite3.Connection,
    flow: ctt.Onboarding,
    state: str,
    next_url: str | None = None,
    error: str | None = None,
) -> None:
    """Writes the flow's JSON back; called after every step that may have changed it."""
    db.execute(
        "UPDATE flows SET flow_json = ?, state = ?, next_url = ?, last_error = ?, updated_at = ?"
        " WHERE flow_id = ?",
        (flow.to_json(), state, next_url, error, now(), flow.id),
    )
    db.commit()


def create_new_flows(db: sqlite3.Connection, csv_path: str) -> None:
    """Step 1: a flow for every CSV row that has none yet."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["enterprise_name"].strip()
            if db.execute("SELECT 1 FROM flows WHERE enterprise_name = ?", (name,)).fetchone():
                continue  # already onboarding: resumed below
            plan = ctt.OnboardingPlan(
                enterprise=ctt.NewEnterprise(
                    enterprise_name=name,
                    services=[ctt.Service(s) for s in row["services"].split(";") if s],
                    restrict_admin_access=True,
                    billing_references=[row["billing_reference"]],
                ),
                redirect_url=env("CTT_REDIRECT_URL"),
                # Gateways are chosen by region; the PBX type is the reseller's default.
                gateway_regions=[r for r in row["gateway_regions"].split(";") if r],
            )
            flow = ctt.Onboarding(plan)
            # Stored *before* the first advance: if the job dies mid-way, the next run resumes it.
            db.execute(
                "INSERT INTO flows (flow_id, enterprise_name, billing_reference, flow_json, state,"
                " updated_at) VALUES (?, ?, ?, ?, 'new', ?)",
                (flow.id, name, row["billing_reference"], flow.to_json(), now()),
            )
            db.commit()
            print(f"{name}: new onboarding flow {flow.id}")


def apply_callbacks(db: sqlite3.Connection, key: str) -> None:
    """Step 2: feed each stored callback to the flow it names (the URL's tag says which)."""
    pending = db.execute(
        "SELECT id, url, body FROM callbacks WHERE applied_at IS NULL ORDER BY id"
    ).fetchall()
    for cb_id, url, body in pending:
        try:
            verified = ctt.verify_callback(key, url, body)  # genuine? which flow and action?
            row = db.execute(
                "SELECT flow_json, enterprise_name FROM flows WHERE flow_id = ?",
                (verified.flow_id,),
            ).fetchone()
            if row is None:
                raise ctt.CallbackInvalidError(f"no flow {verified.flow_id} in this database")
            flow = ctt.Onboarding.from_json(row[0])
            outcome = flow.handle_callback(key, url, body)
            save(db, flow, "callback_applied")  # advanced in step 3
            result = f"{outcome.value} ({verified.action.value})"
            print(f"{row[1]}: callback for {verified.action.value} {outcome.value}")
        except ctt.CttError as e:
            result = f"rejected [{e.code}]: {e}"
            print(f"callback {cb_id} {result}")
        db.execute(
            "UPDATE callbacks SET applied_at = ?, result = ? WHERE id = ?", (now(), result, cb_id)
        )
        db.commit()


def advance_all(db: sqlite3.Connection, client: ctt.Client) -> None:
    """Step 3: advance every unfinished flow and print what happens next."""
    rows = db.execute(
        "SELECT flow_json, enterprise_name FROM flows WHERE state != 'complete' ORDER BY rowid"
    ).fetchall()
    for flow_json, name in rows:
        flow = ctt.Onboarding.from_json(flow_json)
        try:
            progress = flow.advance(client)
        except ctt.CttError as e:
            # Whatever succeeded is kept in the flow; the next run retries the failed step.
            save(db, flow, "error", error=f"[{e.code}] {e}")
            print(f"{name}: failed [{e.code}]: {e} (the next run retries)")
            continue
        if isinstance(progress, ctt.AwaitingAdmin):
            save(db, flow, "awaiting_admin", next_url=progress.url)
            print(
                f"{name}: enterprise {flow.enterprise_id}: send the Global Admin the "
                f"{progress.action.value} URL: {progress.url}"
            )
        elif isinstance(progress, ctt.WaitingUntil):
            save(db, flow, "waiting")
            print(
                f"{name}: waiting until {progress.not_before:%Y-%m-%d %H:%M} UTC: {progress.reason}"
            )
        else:
            save(db, flow, "complete")
            print(
                f"{name}: complete: enterprise {progress.enterprise_id}, "
                f"tenant {progress.tenant_id}"
            )


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "run":
        csv_path, db_path = argv[1], argv[2]
        db = open_db(db_path)
        with make_client() as client:
            create_new_flows(db, csv_path)
            apply_callbacks(db, env("CTT_CALLBACK_KEY"))
            advance_all(db, client)
        counts = dict(db.execute("SELECT state, COUNT(*) FROM flows GROUP BY state").fetchall())
        print("flows by state: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        return 0
    if len(argv) == 3 and argv[0] == "callback":
        # What your web endpoint does with a callback: store it (the body is a secret too).
        db = open_db(argv[1])
        db.execute(
            "INSERT INTO callbacks (url, body, received_at) VALUES (?, ?, ?)",
            (argv[2], sys.stdin.read(), now()),
        )
        db.commit()
        print("callback stored")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
