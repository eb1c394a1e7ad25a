"""Cross-language step 2 (Python): the Global Admin answers the ask the Node step stored; this
step loads the flow the callback names from the shared SQLite file, hands the callback to
handle_callback with the shared key ring, saves with compare-and-swap, advances (which confirms
the sign-in with the vendor and asks the next thing) with a CAS checkpoint, and stores the next
ask; ``--asks N`` times. Run by run.sh (it sets the CTT_XLANG_* variables)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import urllib.request
from typing import Any

import ctt_onboard as ctt
from xlang import Checks, env

LANG = "python"
TENANT = "contoso"
check = Checks(LANG)


def sim_post(base_url: str, path: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--asks", type=int, default=2)
    args = parser.parse_args()

    sim = json.loads(env("CTT_XLANG_SIM"))
    key = bytes.fromhex(env("CTT_XLANG_KEY_HEX"))
    if len(key) != 32:
        raise SystemExit(f"CTT_XLANG_KEY_HEX is {len(key)} bytes, not 32")
    ring = ctt.CallbackKeys(
        key
    )  # the key id is derived from the key, as in the other languages
    client = ctt.Client(
        base_url=sim["base_url"],
        reseller=ctt.ResellerCredentials(
            client_id=sim["client_id"],
            client_secret=sim["client_secret"],
            username=sim["username"],
            password=sim["password"],
        ),
        enterprise=ctt.EnterpriseCredentials(
            client_id=sim["client_id"],
            client_secret=sim["client_secret"],
            username=sim["enterprise_username"],
            password=sim["enterprise_password"],
        ),
        callback_key=key,
    )
    db = sqlite3.connect(env("CTT_XLANG_DB"), isolation_level=None, timeout=30)

    def save_if_at(flow: ctt.Onboarding, previous: int) -> None:
        cursor = db.execute(
            "UPDATE flows SET json = ?, revision = ? WHERE id = ? AND revision = ?",
            (flow.to_json(), flow.revision, flow.id, previous),
        )
        if cursor.rowcount != 1:
            raise ctt.FlowStateError(
                f"flow {flow.id}: the stored row is no longer at revision {previous}"
            )

    handled: list[str] = []
    first_revision = last_revision = None
    progress: Any = None
    for _ in range(args.asks):
        asks = db.execute("SELECT flow_id, action, url FROM asks").fetchall()
        if not check(len(asks) == 1, f"one stored ask to answer (found {len(asks)})"):
            break
        stored_id, action, ask_url = asks[0]

        # The Global Admin acts on the action item URL; the simulator answers with the callback
        # ConnecttoTeams would post to the redirect URL.
        callback = sim_post(
            sim["base_url"], "/_sim/approve", {"url": ask_url, "tenant": TENANT}
        )
        url, body = callback["url"], json.dumps(callback["body"])
        db.execute(
            "INSERT INTO inbox (flow_id, action, url, body, lang) VALUES (?, ?, ?, ?, ?)",
            (stored_id, action, url, body, LANG),
        )

        flow_id = ctt.claimed_flow_id(url)
        check(flow_id == stored_id, f"{action}: the callback URL names the stored flow")
        text, revision = db.execute(
            "SELECT json, revision FROM flows WHERE id = ?", (flow_id,)
        ).fetchone()
        flow = ctt.Onboarding.from_json(text)
        if first_revision is None:
            first_revision = revision
        check(
            flow.revision == revision,
            f"{action}: the loaded flow is at the stored revision {revision}",
        )
        loaded_progress = flow.progress()
        check(
            isinstance(loaded_progress, ctt.AwaitingAdmin)
            and loaded_progress.url == ask_url,
            f"{action}: the flow written by the previous language waits for this ask",
        )

        outcome = flow.handle_callback(ring, url, body)
        check(
            outcome == ctt.CallbackOutcome.ACCEPTED,
            f"{action}: handle_callback accepts it ({outcome})",
        )
        check(flow.has_unconfirmed_callback, f"{action}: accepted, not yet confirmed")
        check(flow.revision > revision, f"{action}: accepting it raised the revision")
        save_if_at(flow, revision)

        saved = [flow.revision]

        def checkpoint(
            snapshot: ctt.Onboarding, previous: int, saved: list[int] = saved
        ) -> None:
            if previous != saved[0]:
                raise ctt.FlowStateError(
                    f"checkpoint got {previous}, this step saved {saved[0]}"
                )
            save_if_at(snapshot, previous)
            saved[0] = snapshot.revision

        progress = flow.advance(client, checkpoint)
        if flow.revision != saved[0]:
            save_if_at(flow, saved[0])
        check(
            not flow.has_unconfirmed_callback,
            f"{action}: advance confirmed the callback with the vendor",
        )
        if not check(
            isinstance(progress, ctt.AwaitingAdmin) and progress.action.value != action,
            f"{action}: advance moves on to the next ask (got {progress!r})",
        ):
            break
        db.execute(
            "UPDATE asks SET action = ?, url = ? WHERE flow_id = ?",
            (progress.action.value, progress.url, flow.id),
        )
        handled.append(action)
        last_revision = flow.revision

    stored = db.execute("SELECT revision FROM flows").fetchone()[0]
    check(
        stored == last_revision,
        f"the stored row is at the flow's revision {last_revision} (stored {stored})",
    )
    db.execute("INSERT INTO history (lang, revision) VALUES (?, ?)", (LANG, stored))
    nxt = progress.action.value if isinstance(progress, ctt.AwaitingAdmin) else progress
    print(
        f"{LANG}: handled {', '.join(handled) or 'nothing'} with the shared key ring, "
        f"revision {first_revision} -> {stored}, now awaiting {nxt}"
    )
    return 1 if check.failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # reported as a failed check with its message
        check(False, f"{type(e).__name__}: {e}")
        print(f"{LANG}: failed: {type(e).__name__}: {e}")
        raise
