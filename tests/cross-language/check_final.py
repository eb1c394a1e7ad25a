"""Cross-language step 4: what the three languages left behind. The stored flow is complete,
its revision rose in every language's step, and the simulator holds exactly one enterprise with
the plan's name, in contoso's tenant, created once, with each consent granted once. Run by
run.sh (it sets the CTT_XLANG_* variables)."""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
import urllib.request
from collections import Counter

import ctt_onboard as ctt
from xlang import Checks, env

LANG = "final"
CONTOSO_TENANT = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
CONSENTS = {
    "GET_USER_SYNC_CONSENT",
    "GET_PRESENCE_CONSENT",
    "GET_AGENT_CONSENT",
    "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
}
check = Checks(LANG)


def describe(progress: object) -> str:
    if isinstance(progress, ctt.AwaitingAdmin):
        return f"AwaitingAdmin {progress.action.value}"
    return type(progress).__name__


def main() -> int:
    sim = json.loads(env("CTT_XLANG_SIM"))
    name = env("CTT_XLANG_NAME")
    db = sqlite3.connect(env("CTT_XLANG_DB"), isolation_level=None, timeout=30)

    rows = db.execute("SELECT id, json, revision FROM flows").fetchall()
    if not check(len(rows) == 1, f"one stored flow (found {len(rows)})"):
        return 1
    flow_id, text, revision = rows[0]
    flow = ctt.Onboarding.from_json(text)
    check(
        flow.id == flow_id and flow.revision == revision,
        "the stored JSON is the row's flow at the row's revision",
    )
    check(flow.is_complete, "the stored flow is complete")
    check(
        isinstance(flow.progress(), ctt.Complete),
        f"the stored flow's last advance was Complete (got {describe(flow.progress())})",
    )
    check(
        flow.tenant_id == CONTOSO_TENANT,
        f"the stored flow's tenant is contoso's (got {flow.tenant_id})",
    )
    check(
        db.execute("SELECT count(*) FROM asks").fetchone()[0] == 0,
        "no ask is left open",
    )

    history = db.execute("SELECT lang, revision FROM history ORDER BY seq").fetchall()
    langs = [lang for lang, _ in history]
    check(
        langs == ["node", "python", "kotlin"],
        f"node, python and kotlin each saved the flow in turn ({langs})",
    )
    revisions = [r for _, r in history]
    check(
        all(a < b for a, b in itertools.pairwise(revisions))
        and revisions[-1:] == [revision],
        f"the revision rose across the languages and the row holds the last ({revisions}, stored {revision})",
    )

    with urllib.request.urlopen(
        sim["base_url"] + "/_sim/state", timeout=30
    ) as response:
        state = json.loads(response.read().decode())
    named = [e for e in state["enterprises"] if e["name"] == name]
    check(
        len(named) == 1,
        f"the simulator holds exactly one enterprise named {name!r} (found {len(named)})",
    )
    check(
        len(state["enterprises"]) == 1,
        f"and no other ({len(state['enterprises'])} in all)",
    )
    creates = [r for r in state["requests"] if r["path"] == "/reseller/newEnterprise"]
    check(len(creates) == 1, f"one create was sent ({len(creates)})")
    if named:
        ent = named[0]
        check(
            ent["id"] == flow.enterprise_id,
            f"it is the flow's enterprise ({ent['id']} vs {flow.enterprise_id})",
        )
        check(
            ent["tenant_id"] == CONTOSO_TENANT,
            f"its tenant is contoso's ({ent['tenant_id']})",
        )
        check(
            f"ctt-onboard:{flow_id}" in ent["billing_references"],
            "it carries the flow's billing reference",
        )
        check(
            ent["managed_by_provider"] and ent["management_updates"] == 1,
            f"management by the provider was recorded once ({ent['management_updates']})",
        )
        granted = Counter(
            c["action"] for c in state["consents"] if c["enterprise_id"] == ent["id"]
        )
        check(
            set(granted) == CONSENTS,
            f"the consents granted are {sorted(CONSENTS)} (got {sorted(granted)})",
        )
        check(
            all(n == 1 for n in granted.values()),
            f"each consent was granted once ({dict(granted)})",
        )
        check(
            all(c["tenant_id"] == CONTOSO_TENANT for c in state["consents"]),
            "every consent is in contoso's tenant",
        )

    print(
        f"{LANG}: flow {flow_id} complete at revision {revision} (node/python/kotlin left {revisions}); "
        f"the simulator holds 1 enterprise {name!r}, {len(state['consents'])} consents, each granted once"
        if not check.failures
        else f"{LANG}: {check.failures} check(s) failed"
    )
    return 1 if check.failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # reported as a failed check with its message
        check(False, f"{type(e).__name__}: {e}")
        print(f"{LANG}: failed: {type(e).__name__}: {e}")
        raise
