"""A billing-system job that onboards the enterprises listed in a CSV file.

The pattern a real system uses: the onboarding flow is *data in your own database*. Each run

1. creates a flow for every CSV row that has none yet and stores its JSON in SQLite,
2. applies the callbacks your web endpoint stored since the last run (see ``callback`` below),
3. advances every unfinished flow, saving it after every step (the checkpoint), and prints what
   to do next: the URL to send to the enterprise's Global Admin, the time to run again, or that
   it is complete.

So the first run creates the enterprises and prints their registration URLs; every later run
resumes each flow from SQLite, and nothing that succeeded is repeated (no enterprise is created
twice). Run it from cron, or after each callback.

Several writers may work on one database at once (two overlapping runs, the ``apply`` worker your
web endpoint starts for each callback): every save is a compare-and-swap on the flow's revision
(``UPDATE flows SET ..., revision = ? WHERE flow_id = ? AND revision = ?``). A writer whose row
moved on since it loaded the flow reloads it and applies its change again, so no callback is ever
lost and no enterprise is created twice.

Usage (the API and credentials come from the environment, never from the command line)::

    export CTT_BASE_URL=... CTT_CLIENT_ID=... CTT_CLIENT_SECRET=... CTT_USERNAME=... \\
           CTT_PASSWORD=... CTT_ENTERPRISE_USERNAME=... CTT_ENTERPRISE_PASSWORD=... \\
           CTT_CALLBACK_KEY=... CTT_REDIRECT_URL=https://billing.example/ctt/callback
    python billing_batch.py run enterprises.csv onboarding.sqlite3
    # your web endpoint at CTT_REDIRECT_URL stores each callback it receives:
    python billing_batch.py callback onboarding.sqlite3 "<the URL it was called at>" < body.json
    # and, at once or later, applies it (the next run does too):
    python billing_batch.py apply onboarding.sqlite3

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
    -- The flow's revision: every save compares it (compare-and-swap), see save().
    revision          INTEGER NOT NULL DEFAULT 0,
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
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the other writer
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(flows)")}
    if "revision" not in columns:  # a database from before revisions
        db.execute("ALTER TABLE flows ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
        db.commit()
    return db


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"billing_batch: set {name} in the environment")
    return value


def make_client() -> ctt.Client:
    """One client for the whole run, configured from the environment. ``CTT_CALLBACK_KEY`` signs
    the redirect URLs; during a key rotation, ``CTT_OLD_CALLBACK_KEY`` (with
    ``CTT_OLD_CALLBACK_KEY_ID``) still verifies the URLs it signed."""
    keys = ctt.CallbackKeys(env("CTT_CALLBACK_KEY"), os.environ.get("CTT_CALLBACK_KEY_ID"))
    if os.environ.get("CTT_OLD_CALLBACK_KEY"):
        keys = keys.verify_also(env("CTT_OLD_CALLBACK_KEY"), env("CTT_OLD_CALLBACK_KEY_ID"))
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
        callback_keys=keys,
    )


class Stale(ctt.FlowStateError):
    """Another writer saved the flow since this one loaded it: reload and apply again."""


#: How often a writer reloads a flow that another writer moved on before it gives up.
ATTEMPTS = 10


def load(db: sqlite3.Connection, flow_id: str) -> tuple[ctt.Onboarding, str] | None:
    """The stored flow and its enterprise name, or None."""
    row = db.execute(
        "SELECT flow_json, enterprise_name FROM flows WHERE flow_id = ?", (flow_id,)
    ).fetchone()
    if row is None:
        return None
    return ctt.Onboarding.from_json(row[0]), row[1]


def save(
    db: sqlite3.Connection,
    flow: ctt.Onboarding,
    previous_revision: int,
    state: str | None = None,
    next_url: str | None = None,
    error: str | None = None,
) -> None:
    """Writes the flow back if its row is still at ``previous_revision`` (the revision this
    writer loaded or last saved), with the job's own columns when ``state`` is given; raises
    ``Stale`` when another writer saved it meanwhile."""
    if state is None:
        cursor = db.execute(
            "UPDATE flows SET flow_json = ?, revision = ?, updated_at = ?"
            " WHERE flow_id = ? AND revision = ?",
            (flow.to_json(), flow.revision, now(), flow.id, previous_revision),
        )
    else:
        cursor = db.execute(
            "UPDATE flows SET flow_json = ?, revision = ?, state = ?, next_url = ?,"
            " last_error = ?, updated_at = ? WHERE flow_id = ? AND revision = ?",
            (
                flow.to_json(),
                flow.revision,
                state,
                next_url,
                error,
                now(),
                flow.id,
                previous_revision,
            ),
        )
    db.commit()
    if cursor.rowcount == 0:
        raise Stale(
            f"flow {flow.id} was saved by another writer since revision {previous_revision}"
        )


class Checkpoint:
    """``advance``'s save after every step (and before the create): compare-and-swap, so a
    stale copy never overwrites another writer's save, and a create is only sent once its
    marker is stored. Remembers the revision it stored last."""

    def __init__(self, db: sqlite3.Connection, loaded: ctt.Onboarding) -> None:
        self.db = db
        self.saved = loaded.revision

    def __call__(self, flow: ctt.Onboarding, previous_revision: int) -> None:
        save(self.db, flow, previous_revision)
        self.saved = flow.revision


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
                "INSERT INTO flows (flow_id, enterprise_name, billing_reference, flow_json,"
                " revision, state, updated_at) VALUES (?, ?, ?, ?, ?, 'new', ?)",
                (flow.id, name, row["billing_reference"], flow.to_json(), flow.revision, now()),
            )
            db.commit()
            print(f"{name}: new onboarding flow {flow.id}")


def apply_callback(db: sqlite3.Connection, client: ctt.Client, url: str, body: str) -> str:
    """Feeds one callback to the flow its URL names, and saves it; a stale save reloads the flow
    and applies the callback again. Returns what happened, for the callbacks table."""
    flow_id = ctt.claimed_flow_id(url)  # unverified: which flow to load; handle_callback checks
    for _ in range(ATTEMPTS):
        found = load(db, flow_id) if flow_id is not None else None
        if found is None:
            raise ctt.CallbackInvalidError(f"no flow {flow_id} in this database")
        flow, name = found
        progress = flow.progress()
        action = progress.action.value if isinstance(progress, ctt.AwaitingAdmin) else "?"
        loaded = flow.revision
        # The client's key ring and clock verify it; a forged or stale one raises.
        outcome = flow.handle_callback(client, url, body)
        try:
            save(db, flow, loaded, "callback_applied")  # advanced in step 3
        except Stale:
            continue  # another writer moved the flow on: reload, apply again
        print(f"{name}: callback for {action} {outcome.value}")
        return f"{outcome.value} ({action})"
    raise ctt.FlowStateError(f"flow {flow_id} kept moving on; the next run applies the callback")


def apply_callbacks(db: sqlite3.Connection, client: ctt.Client) -> None:
    """Step 2: feed each stored callback to the flow it names (the URL's tag says which)."""
    pending = db.execute(
        "SELECT id, url, body FROM callbacks WHERE applied_at IS NULL ORDER BY id"
    ).fetchall()
    for cb_id, url, body in pending:
        try:
            result = apply_callback(db, client, url, body)
        except ctt.FlowStateError as e:
            print(f"callback {cb_id}: {e}")
            continue  # stays pending
        except ctt.CttError as e:
            result = f"rejected [{e.code}]: {e}"
            print(f"callback {cb_id} {result}")
        # Marked once: another writer may have applied it meanwhile (then it was a duplicate).
        db.execute(
            "UPDATE callbacks SET applied_at = ?, result = ? WHERE id = ? AND applied_at IS NULL",
            (now(), result, cb_id),
        )
        db.commit()


def advance_one(db: sqlite3.Connection, client: ctt.Client, flow_id: str) -> None:
    """Advances one flow, saving after every step, and stores where it stopped; when another
    writer saved the flow meanwhile, reloads it and advances again."""
    for _ in range(ATTEMPTS):
        found = load(db, flow_id)
        if found is None:
            return
        flow, name = found
        checkpoint = Checkpoint(db, flow)
        try:
            try:
                progress = flow.advance(client, checkpoint)
            except Stale:
                raise
            except ctt.CttError as e:
                # Whatever succeeded is saved; the next run retries the failed step.
                save(db, flow, checkpoint.saved, "error", error=f"[{e.code}] {e}")
                print(f"{name}: failed [{e.code}]: {e} (the next run retries)")
                return
            if isinstance(progress, ctt.AwaitingAdmin):
                save(db, flow, checkpoint.saved, "awaiting_admin", next_url=progress.url)
                print(
                    f"{name}: enterprise {flow.enterprise_id}: send the Global Admin the "
                    f"{progress.action.value} URL: {progress.url}"
                )
            elif isinstance(progress, ctt.WaitingUntil):
                save(db, flow, checkpoint.saved, "waiting")
                print(
                    f"{name}: waiting until {progress.not_before:%Y-%m-%d %H:%M} UTC: "
                    f"{progress.reason}"
                )
            else:
                save(db, flow, checkpoint.saved, "complete")
                print(
                    f"{name}: complete: enterprise {progress.enterprise_id}, "
                    f"tenant {progress.tenant_id}"
                )
            return
        except Stale:
            continue  # another writer (a callback, another run) moved it on: reload
    print(f"flow {flow_id}: kept moving on; the next run resumes it")


def advance_all(db: sqlite3.Connection, client: ctt.Client) -> None:
    """Step 3: advance every unfinished flow and print what happens next."""
    rows = db.execute(
        "SELECT flow_id FROM flows WHERE state != 'complete' ORDER BY rowid"
    ).fetchall()
    for (flow_id,) in rows:
        advance_one(db, client, flow_id)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "run":
        csv_path, db_path = argv[1], argv[2]
        db = open_db(db_path)
        with make_client() as client:
            create_new_flows(db, csv_path)
            apply_callbacks(db, client)
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
    if len(argv) == 2 and argv[0] == "apply":
        # Applies the stored callbacks now, alongside any run in progress.
        db = open_db(argv[1])
        with make_client() as client:
            apply_callbacks(db, client)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
