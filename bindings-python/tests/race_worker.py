"""The worker processes of test_integrity.py's races: each is a ``multiprocessing`` process
(spawn) with a client of its own, working on flows stored in one SQLite file as
``(id, json, revision)``, as a portal's workers would.

Saves are compare-and-swap on the revision (``UPDATE flows SET json = ?, revision = ? WHERE id =
? AND revision = ?``); a writer whose row moved on gets ``Stale`` (a ``FlowStateError``), reloads
the flow and applies its change again. The ``naive`` mode saves without the revision check, as the
batch job did before issue 13: the control test shows the race loses a callback then.
"""

from __future__ import annotations

import sqlite3
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier, Event
from typing import Any, Optional

import ctt_onboard as ctt

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS flows"
    " (id TEXT PRIMARY KEY, json TEXT NOT NULL, revision INTEGER NOT NULL)"
)
#: How long a forced interleaving waits for the other worker before giving up.
WAIT = 30.0


class Stale(ctt.FlowStateError):
    """The stored row is no longer at the revision this writer last saw."""


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(SCHEMA)
    return db


def insert(db: sqlite3.Connection, flow: ctt.Onboarding) -> None:
    db.execute(
        "INSERT INTO flows (id, json, revision) VALUES (?, ?, ?)",
        (flow.id, flow.to_json(), flow.revision),
    )


def load(db: sqlite3.Connection, flow_id: str) -> ctt.Onboarding:
    row = db.execute("SELECT json, revision FROM flows WHERE id = ?", (flow_id,)).fetchone()
    assert row is not None, f"no flow {flow_id}"
    flow = ctt.Onboarding.from_json(row[0])
    assert flow.revision == row[1]
    return flow


def cas_save(db: sqlite3.Connection, flow: ctt.Onboarding, previous_revision: int) -> None:
    """Saves ``flow`` only if its row is still at ``previous_revision``; ``Stale`` otherwise."""
    cursor = db.execute(
        "UPDATE flows SET json = ?, revision = ? WHERE id = ? AND revision = ?",
        (flow.to_json(), flow.revision, flow.id, previous_revision),
    )
    if cursor.rowcount == 0:
        raise Stale(f"flow {flow.id} is no longer at revision {previous_revision}: reload it")


def naive_save(db: sqlite3.Connection, flow: ctt.Onboarding) -> None:
    db.execute(
        "UPDATE flows SET json = ?, revision = ? WHERE id = ?",
        (flow.to_json(), flow.revision, flow.id),
    )


def client_from(settings: dict[str, Any]) -> ctt.Client:
    return ctt.Client(
        base_url=settings["base_url"],
        reseller=ctt.ResellerCredentials(**settings["reseller"]),
        enterprise=ctt.EnterpriseCredentials(**settings["enterprise"]),
        callback_key=settings["key"],
        retry=ctt.RetryPolicy.none(),
    )


class Checkpoint:
    """The CAS checkpoint: remembers the revision it last stored."""

    def __init__(self, db: sqlite3.Connection, loaded: int) -> None:
        self.db = db
        self.last = loaded

    def __call__(self, flow: ctt.Onboarding, previous_revision: int) -> None:
        cas_save(self.db, flow, previous_revision)
        self.last = flow.revision


def advance_and_save(
    db: sqlite3.Connection,
    client: ctt.Client,
    flow_id: str,
    mode: str,
    loaded_event: Optional[Event] = None,
    wait_for: Optional[Event] = None,
) -> dict[str, Any]:
    """Worker A: loads the flow, advances it, and saves the result (what a batch job does); a
    stale save reloads and advances again. With events: signal ``loaded_event`` once the flow is
    loaded and wait for ``wait_for`` before advancing (a forced interleaving)."""
    stale = 0
    for _ in range(20):
        flow = load(db, flow_id)
        loaded = flow.revision
        if loaded_event is not None:
            loaded_event.set()
            loaded_event = None
            if wait_for is not None:
                wait_for.wait(WAIT)
        try:
            if mode == "naive":
                progress = flow.advance(client)
                naive_save(db, flow)
            else:
                checkpoint = Checkpoint(db, loaded)
                progress = flow.advance(client, checkpoint)
                # The result's own save (a batch job stores the next URL with it): CAS too.
                cas_save(db, flow, checkpoint.last)
        except Stale:
            stale += 1
            continue
        return {"progress": type(progress).__name__, "stale": stale, "revision": flow.revision}
    raise AssertionError("advance_and_save: stale 20 times")


def apply_callback(
    db: sqlite3.Connection,
    client: ctt.Client,
    flow_id: str,
    url: str,
    body: str,
    wait_for: Optional[Event] = None,
    saved_event: Optional[Event] = None,
    loaded_event: Optional[Event] = None,
    hold: Optional[Event] = None,
) -> dict[str, Any]:
    """Worker B: loads the flow, applies the callback and saves with CAS; on a stale save it
    reloads and applies it again. With events: wait for ``wait_for`` before loading, signal
    ``saved_event`` once saved; signal ``loaded_event`` once loaded and wait for ``hold`` before
    applying (another applier of the same callback saves in between)."""
    if wait_for is not None:
        wait_for.wait(WAIT)
    stale = 0
    outcomes = []
    try:
        for _ in range(20):
            flow = load(db, flow_id)
            loaded = flow.revision
            if loaded_event is not None:
                loaded_event.set()
                loaded_event = None
                if hold is not None:
                    hold.wait(WAIT)
            outcomes.append(flow.handle_callback(client, url, body).value)
            try:
                cas_save(db, flow, loaded)
            except Stale:
                stale += 1
                continue
            return {"outcomes": outcomes, "stale": stale}
        raise AssertionError("apply_callback: stale 20 times")
    finally:
        if saved_event is not None:
            saved_event.set()


def advance_race(
    db: sqlite3.Connection,
    client: ctt.Client,
    flow_id: str,
    me: Event,
    other: Event,
) -> dict[str, Any]:
    """One of two workers advancing the same stored flow at once: both load it (each waits
    until the other has loaded too), then advance with the CAS checkpoint; the loser of a save
    reloads and advances again, and finds what the winner stored."""
    stale = 0
    first = True
    for _ in range(40):
        flow = load(db, flow_id)
        if first:
            me.set()
            other.wait(WAIT)
            first = False
        checkpoint = Checkpoint(db, flow.revision)
        try:
            progress = flow.advance(client, checkpoint)
        except Stale:
            stale += 1
            continue
        return {
            "progress": type(progress).__name__,
            "stale": stale,
            "enterprise_id": flow.enterprise_id,
        }
    raise AssertionError("advance_race: stale 40 times")


def serve(
    conn: Connection,
    settings: dict[str, Any],
    events: dict[str, Event],
    barrier: Barrier,
) -> None:
    """A worker process: runs the commands the test sends until it sends None; answers each
    with ``("ok", result)`` or ``("error", repr)``."""
    db = connect(settings["db"])
    with client_from(settings) as client:
        while True:
            command = conn.recv()
            if command is None:
                return
            kind, args = command
            try:
                if kind == "advance":
                    flow_id, mode, forced = args
                    if forced:
                        result = advance_and_save(
                            db, client, flow_id, mode, events["a_loaded"], events["b_saved"]
                        )
                    else:
                        barrier.wait(WAIT)
                        result = advance_and_save(db, client, flow_id, mode)
                elif kind == "callback":
                    flow_id, url, body, forced = args
                    if forced:
                        result = apply_callback(
                            db, client, flow_id, url, body, events["a_loaded"], events["b_saved"]
                        )
                    else:
                        barrier.wait(WAIT)
                        result = apply_callback(db, client, flow_id, url, body)
                elif kind == "callback_held":
                    # The same callback delivered twice: this applier loads first and saves last.
                    flow_id, url, body = args
                    result = apply_callback(
                        db,
                        client,
                        flow_id,
                        url,
                        body,
                        loaded_event=events["a_loaded"],
                        hold=events["b_saved"],
                    )
                elif kind == "advance_race":
                    flow_id, me, other = args
                    result = advance_race(db, client, flow_id, events[me], events[other])
                else:
                    raise ValueError(f"unknown command {kind!r}")
                conn.send(("ok", result))
            except BaseException as e:  # reported to the test, which fails with it
                conn.send(("error", f"{type(e).__name__}: {e}"))
