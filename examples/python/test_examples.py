"""Runs the Python examples as a user would (subprocesses) and checks what they print and store.

Run with ``make test-examples`` (or ``.venv/bin/python -m pytest examples/python``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import ctt_onboard as ctt
import pytest
from ctt_onboard.testing import Simulator

HERE = Path(__file__).resolve().parent
KEY = "billing-test-callback-key-0001"
REDIRECT = "https://billing.example/ctt/callback"


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=HERE,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


# ---------------------------------------------------------------- walkthrough.py


def test_walkthrough_reaches_complete_for_the_ready_tenant() -> None:
    p = run("walkthrough.py")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    # Part I with the lists printed.
    assert "SBC gateway 5678 in US-East" in out
    assert "PBX type 1234 Example PBX (default)" in out
    # Every URL, in the seed's order, each accepted.
    actions = re.findall(r"-> show the Global Admin the (\w+) URL", out)
    assert actions == [
        "REGISTRATION",
        "GET_USER_SYNC_CONSENT",
        "GET_PRESENCE_CONSENT",
        "GET_AGENT_CONSENT",
        "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
    ]
    assert out.count("callback accepted") == len(actions)
    assert "== Complete: enterprise 123456789, tenant 7c9e6679-7425-40de-944b-e07fc1f90ae7" in out
    assert "[done   ] Record management by service provider" in out
    assert "[pending]" not in out


def test_walkthrough_crosses_the_30_minute_wait_on_northwind() -> None:
    p = run("walkthrough.py", "northwind")
    assert p.returncode == 0, p.stderr
    assert "-> waiting 30 minutes: the tenant's Teams/Skype Administrator roles" in p.stdout
    assert "== Complete: enterprise" in p.stdout


def test_walkthrough_stops_when_the_signer_is_not_a_global_admin() -> None:
    p = run("walkthrough.py", "tailspin")
    assert p.returncode == 1, p.stderr
    assert "callback refused [callback_invalid]" in p.stdout
    assert "who is not a Global Admin" in p.stdout
    assert "== Complete" not in p.stdout


# ---------------------------------------------------------------- billing_batch.py


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator() as s:
        yield s


def batch_env(sim: Simulator) -> dict[str, str]:
    """The job reads the API and its credentials from the environment (the simulator's here)."""
    return {
        **os.environ,
        "CTT_BASE_URL": sim.base_url,
        "CTT_CLIENT_ID": sim.reseller.client_id,
        "CTT_CLIENT_SECRET": sim.reseller.client_secret,
        "CTT_USERNAME": sim.reseller.username,
        "CTT_PASSWORD": sim.reseller.password,
        "CTT_ENTERPRISE_USERNAME": sim.enterprise.username,
        "CTT_ENTERPRISE_PASSWORD": sim.enterprise.password,
        "CTT_CALLBACK_KEY": KEY,
        "CTT_REDIRECT_URL": REDIRECT,
    }


def flows(db: Path) -> dict[str, tuple[str, str, str | None]]:
    """enterprise name -> (flow id, state, next URL), as the job stored them."""
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT enterprise_name, flow_id, state, next_url FROM flows").fetchall()
    return {name: (fid, state, url) for name, fid, state, url in rows}


def approve_all(sim: Simulator, env: dict[str, str], db: Path, admins: dict[str, str]) -> None:
    """The admins open the URLs they were sent; the web endpoint stores each callback."""
    for name, (_, state, url) in flows(db).items():
        if state == "awaiting_admin":
            assert url is not None
            callback = sim.approve(url, admins[name], post=False)
            p = run(
                "billing_batch.py", "callback", str(db), callback.url, env=env, stdin=callback.body
            )
            assert p.returncode == 0, p.stderr


ADMINS = {
    "Contoso Pharmaceuticals": "contoso",
    "Fabrikam Logistics": "fabrikam",
    "Northwind Traders": "northwind",
}


def test_billing_batch_creates_then_resumes_every_flow_from_sqlite(
    sim: Simulator, tmp_path: Path
) -> None:
    env = batch_env(sim)
    db = tmp_path / "onboarding.sqlite3"

    # Run 1: every enterprise is created and its registration URL printed and stored.
    p = run("billing_batch.py", "run", "enterprises.csv", str(db), env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("new onboarding flow") == 3
    assert p.stdout.count("send the Global Admin the REGISTRATION URL: http") == 3
    assert "flows by state: awaiting_admin 3" in p.stdout
    first = flows(db)
    assert set(first) == set(ADMINS)
    assert all(state == "awaiting_admin" and url for _, state, url in first.values())
    assert len(sim.enterprises()) == 3
    # No secret reaches the output.
    assert sim.reseller.password not in p.stdout + p.stderr
    assert sim.reseller.client_secret not in p.stdout + p.stderr

    # A forged callback (the tag does not match) is stored but rejected, and changes nothing.
    url = first["Contoso Pharmaceuticals"][2]
    assert url is not None
    genuine = sim.approve(url, "contoso", post=False)
    forged_url = re.sub(r"([?&]ctt_tag=)[^&]*", r"\g<1>AAAA", genuine.url)
    assert forged_url != genuine.url
    run("billing_batch.py", "callback", str(db), forged_url, env=env, stdin=genuine.body)

    # The admins register; run 2 resumes each flow from SQLite and asks for the next consent.
    approve_all(sim, env, db, ADMINS)
    p = run("billing_batch.py", "run", "enterprises.csv", str(db), env=env)
    assert p.returncode == 0, p.stderr
    assert "new onboarding flow" not in p.stdout
    assert "rejected [callback_invalid]" in p.stdout
    assert p.stdout.count("callback for REGISTRATION accepted") == 3
    assert p.stdout.count("send the Global Admin the GET_USER_SYNC_CONSENT URL") == 3
    second = flows(db)
    assert {n: v[0] for n, v in second.items()} == {n: v[0] for n, v in first.items()}
    assert len(sim.enterprises()) == 3  # resumed, not created again

    # Later runs: each URL approved, until every flow is complete or (northwind) waiting.
    for _ in range(10):
        if all(s in ("complete", "waiting") for _, s, _ in flows(db).values()):
            break
        approve_all(sim, env, db, ADMINS)
        p = run("billing_batch.py", "run", "enterprises.csv", str(db), env=env)
        assert p.returncode == 0, p.stderr
    final = flows(db)
    assert final["Contoso Pharmaceuticals"][1] == "complete"
    assert final["Fabrikam Logistics"][1] == "complete"
    assert final["Northwind Traders"][1] == "waiting"
    assert "Northwind Traders: waiting until" in p.stdout
    assert "Contoso Pharmaceuticals: complete: enterprise" in p.stdout
    assert len(sim.enterprises()) == 3
    with sqlite3.connect(db) as c:
        # Every stored callback was applied exactly once.
        assert c.execute("SELECT COUNT(*) FROM callbacks WHERE applied_at IS NULL").fetchone() == (
            0,
        )


def test_billing_batch_two_writers_on_one_database_never_lose_a_callback(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers on the job's SQLite file: a run advancing a flow (writer A) and the ``apply``
    worker storing a callback for it (writer B), B saving between A's load and A's save in every
    round. A's save is a compare-and-swap on the revision, so it finds the row moved on, reloads
    and advances again; before, its copy overwrote the callback, the flow asked again and the
    admin granted the consent twice."""
    for name, value in batch_env(sim).items():
        monkeypatch.setenv(name, value)
    import billing_batch as bb

    csv_path = tmp_path / "one.csv"
    csv_path.write_text(
        "enterprise_name,services,gateway_regions,billing_reference\n"
        "Two Writers Inc,PBX;SMS,US-East,TW-1\n"
    )
    db_path = str(tmp_path / "two-writers.sqlite3")
    a_db, b_db = bb.open_db(db_path), bb.open_db(db_path)
    real_load = bb.load
    asked: list[str] = []
    with bb.make_client() as client:
        bb.create_new_flows(a_db, str(csv_path))
        bb.advance_all(a_db, client)
        for _ in range(10):
            flow_id, state, url = a_db.execute(
                "SELECT flow_id, state, next_url FROM flows"
            ).fetchone()
            if state == "complete":
                break
            assert state == "awaiting_admin" and url
            flow = ctt.Onboarding.from_json(
                a_db.execute("SELECT flow_json FROM flows").fetchone()[0]
            )
            progress = flow.progress()
            assert isinstance(progress, ctt.AwaitingAdmin)
            asked.append(progress.action.value)
            callback = sim.approve(url, "contoso", post=False)
            b_db.execute(
                "INSERT INTO callbacks (url, body, received_at) VALUES (?, ?, ?)",
                (callback.url, callback.body, bb.now()),
            )
            b_db.commit()
            fired: list[bool] = []

            def load_then_b_saves(
                db: sqlite3.Connection, fid: str, fired: list[bool] = fired
            ) -> tuple[ctt.Onboarding, str] | None:
                found = real_load(db, fid)
                if db is a_db and not fired:
                    fired.append(True)
                    bb.apply_callbacks(b_db, client)  # writer B, between A's load and save
                return found

            monkeypatch.setattr(bb, "load", load_then_b_saves)
            bb.advance_one(a_db, client, flow_id)
            monkeypatch.setattr(bb, "load", real_load)
            assert fired
            # The callback survived A's stale copy: the flow moved past that ask.
            stored = ctt.Onboarding.from_json(
                a_db.execute("SELECT flow_json FROM flows").fetchone()[0]
            )
            after = stored.progress()
            assert not (isinstance(after, ctt.AwaitingAdmin) and after.action is progress.action)
        else:
            raise AssertionError(f"the flow did not complete: {asked}")
    results = [r for (r,) in a_db.execute("SELECT result FROM callbacks ORDER BY id")]
    assert results == [f"accepted ({a})" for a in asked]
    [enterprise] = sim.enterprises()
    granted = Counter(c["action"] for c in sim.consents() if c["enterprise_id"] == enterprise["id"])
    assert granted == Counter(a for a in asked if a != "REGISTRATION")
    assert set(granted.values()) == {1}
