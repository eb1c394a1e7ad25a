"""Flow integrity through the binding (issue 13, "Tests that can fail"): forged bodies under
genuine tags, replays with other whitespace, callbacks for earlier asks, retired keys, keys as
bytes, two flows with one name, two processes racing on one SQLite file, and a checkpoint that
fails before the create. Each test names, in its docstring, what the code before issue 13 did."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ctt_onboard as ctt
import pytest
import race_worker
from conftest import KEY, unique_name
from ctt_onboard.testing import Callback, Simulator

REDIRECT = "https://portal.example/onboarding/callback"
CONTOSO = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
FABRIKAM = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


def plan(
    name: str | None = None, services: list[ctt.Service] | None = None, **extra: Any
) -> ctt.OnboardingPlan:
    return ctt.OnboardingPlan(
        enterprise=ctt.NewEnterprise(
            enterprise_name=name or unique_name("Integrity"),
            services=services or [ctt.Service.SMS],
        ),
        redirect_url=REDIRECT,
        **extra,
    )


def param(url: str, name: str) -> str:
    [value] = parse_qs(urlsplit(url).query)[name]
    return value


def awaiting(progress: ctt.Progress) -> ctt.AwaitingAdmin:
    assert isinstance(progress, ctt.AwaitingAdmin), progress
    return progress


def step(flow: ctt.Onboarding, name: str) -> ctt.StepStatus:
    [found] = [s for s in flow.status() if s.step == name]
    return found


def registered(
    sim: Simulator, client: ctt.Client, flow: ctt.Onboarding, tenant: str = "contoso"
) -> ctt.AwaitingAdmin:
    """Advances a new flow through a genuine registration to its first consent ask."""
    ask = awaiting(flow.advance(client))
    assert ask.action is ctt.ActionType.REGISTRATION
    genuine = sim.approve(ask.url, tenant, post=False)
    assert flow.handle_callback(client, genuine.url, genuine.body) is ctt.CallbackOutcome.ACCEPTED
    return awaiting(flow.advance(client))


def forged(callback: Callback, **changes: Any) -> str:
    """The genuine body with the MSAL access token replaced by an opaque string and other
    fields changed: what anyone holding the (non-secret) redirect URL can post."""
    body = json.loads(callback.body)
    auth = body["msalAuthenticationResult"]["authenticationResult"]
    auth["accessToken"] = "opaque-forged-token-" + os.urandom(8).hex()
    for key, value in changes.items():
        if key == "tenantId":
            auth["userInfo"]["tenantId"] = value
        else:
            body[key] = value
    return json.dumps(body)


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


# ---------------------------------------------------------------- 1. forged body, genuine tag


def test_a_forged_body_under_a_genuine_tag_never_binds_its_tenant(
    sim: Simulator, client: ctt.Client
) -> None:
    """Before: the tag covered only the flow and the action, and the body was trusted whole, so
    this body bound the flow to fabrikam and every genuine callback was refused afterwards."""
    flow = ctt.Onboarding(plan())
    ask = awaiting(flow.advance(client))
    genuine = sim.approve(ask.url, "contoso", post=False)
    body = forged(genuine, tenantId=FABRIKAM, officeUserType="GLOBAL_ADMIN")
    # Offline, it cannot be told from a genuine one (an opaque token, the URL's genuine tag).
    assert flow.handle_callback(client, genuine.url, body) is ctt.CallbackOutcome.ACCEPTED
    assert flow.has_unconfirmed_callback
    assert flow.tenant_id is None
    # advance asks ConnecttoTeams about the MSAL result first: refused, so it asks again.
    again = awaiting(flow.advance(client))
    assert again.action is ctt.ActionType.REGISTRATION
    assert again.url != ask.url
    retry = sim.approve(again.url, "contoso", post=False)
    assert param(retry.url, "ctt_nonce") != param(genuine.url, "ctt_nonce")
    assert flow.tenant_id is None
    assert not flow.has_unconfirmed_callback
    registration = step(flow, "registration")
    assert registration.state != "done"
    assert registration.detail is not None and "refused" in registration.detail
    # The genuine admin answers the new URL: the flow completes, bound to contoso.
    assert flow.handle_callback(client, retry.url, retry.body) is ctt.CallbackOutcome.ACCEPTED
    done = drive(sim, client, flow)
    assert isinstance(done, ctt.Complete)
    assert done.tenant_id == flow.tenant_id == CONTOSO
    [enterprise] = [e for e in sim.enterprises() if e["id"] == flow.enterprise_id]
    assert enterprise["tenant_id"] == CONTOSO


def test_a_body_whose_token_names_another_tenant_is_refused_offline(
    sim: Simulator, client: ctt.Client
) -> None:
    """Before: nothing compared the body's tenant with the access token's."""
    flow = ctt.Onboarding(plan())
    ask = awaiting(flow.advance(client))
    genuine = sim.approve(ask.url, "contoso", post=False)
    body = json.loads(genuine.body)
    auth = body["msalAuthenticationResult"]["authenticationResult"]
    auth["accessToken"] = jwt({"tid": CONTOSO, "upn": "admin@contoso.onmicrosoft.com"})
    auth["userInfo"]["tenantId"] = FABRIKAM
    before, revision = flow.to_json(), flow.revision
    with pytest.raises(ctt.CallbackInvalidError, match="tenant"):
        flow.handle_callback(client, genuine.url, json.dumps(body))
    assert flow.to_json() == before and flow.revision == revision


def test_a_forged_consent_is_never_marked_granted(sim: Simulator, client: ctt.Client) -> None:
    """Before: a body posted to a consent URL marked the consent granted without any admin."""
    flow = ctt.Onboarding(plan())
    ask = registered(sim, client, flow)
    consent = ask.action
    assert consent is ctt.ActionType.GET_USER_SYNC_CONSENT
    # The URL leaked (a Referer, a log): someone posts a body of their choosing to it. The
    # simulator's approve would grant the consent, so the body is built from the
    # registration's (the shape ConnecttoTeams posts), under the consent URL.
    url = sim_redirect(sim, ask.url)
    template = Callback(url=url, body=registration_body(sim, client))
    body = forged(template, tenantId=CONTOSO)
    assert flow.handle_callback(client, url, body) is ctt.CallbackOutcome.ACCEPTED
    again = awaiting(flow.advance(client))
    assert again.action is consent and again.url != ask.url
    assert step(flow, "user_sync_consent").state != "done"
    assert "refused" in (step(flow, "user_sync_consent").detail or "")
    assert not [c for c in sim.consents() if c["enterprise_id"] == flow.enterprise_id]
    # The genuine admin grants it once; the flow goes on.
    genuine = sim.approve(again.url, "contoso", post=False)
    assert flow.handle_callback(client, genuine.url, genuine.body) is ctt.CallbackOutcome.ACCEPTED
    nxt = awaiting(flow.advance(client))
    assert nxt.action is ctt.ActionType.GET_PRESENCE_CONSENT
    assert step(flow, "user_sync_consent").state == "done"
    granted = [c["action"] for c in sim.consents() if c["enterprise_id"] == flow.enterprise_id]
    assert granted == [consent.value]


def test_a_flipped_tenant_admin_api_flag_does_not_skip_provisioning(
    sim: Simulator, client: ctt.Client
) -> None:
    """Before: containsTeamsTenantAdminAPI came from the body, so flipping it skipped the
    provisioning of a tenant that lacks the API (fabrikam)."""
    flow = ctt.Onboarding(plan())
    ask = awaiting(flow.advance(client))
    genuine = sim.approve(ask.url, "fabrikam", post=False)
    body = json.loads(genuine.body)
    assert "containsTeamsTenantAdminAPI" in body
    body["containsTeamsTenantAdminAPI"] = True
    assert flow.handle_callback(client, genuine.url, json.dumps(body)) is (
        ctt.CallbackOutcome.ACCEPTED
    )
    done = drive(sim, client, flow, tenant="fabrikam")
    assert isinstance(done, ctt.Complete) and done.tenant_id == FABRIKAM
    assert step(flow, "provision_tenant_admin_api").state == "done"
    assert any(r["path"] == "/provisioning/provisionTenantAdminAPI" for r in sim.requests())


# ---------------------------------------------------------------- 2. replay, other whitespace


def test_a_replay_with_other_whitespace_and_key_order_is_a_duplicate(
    sim: Simulator, client: ctt.Client
) -> None:
    """Before: replays were recognised by the body's exact bytes, so one added space made an
    old callback new again."""
    flow = ctt.Onboarding(plan())
    ask = awaiting(flow.advance(client))
    genuine = sim.approve(ask.url, "contoso", post=False)
    assert flow.handle_callback(client, genuine.url, genuine.body) is ctt.CallbackOutcome.ACCEPTED
    respelled = json.dumps(json.loads(genuine.body), indent=3, sort_keys=True) + "\n  "
    assert respelled != genuine.body
    for when in ("accepted", "confirmed"):
        before, revision = flow.to_json(), flow.revision
        assert flow.handle_callback(client, genuine.url, respelled) is (
            ctt.CallbackOutcome.DUPLICATE
        ), when
        assert flow.to_json() == before and flow.revision == revision, when
        if when == "accepted":
            awaiting(flow.advance(client))


# ---------------------------------------------------------------- 3. an earlier ask


def test_a_callback_for_an_earlier_ask_is_refused(sim: Simulator, client: ctt.Client) -> None:
    """Before: a URL answered for as long as its flow lived, as often as it was posted."""
    flow = ctt.Onboarding(plan())
    first = awaiting(flow.advance(client))
    registration = sim.approve(first.url, "contoso", post=False)
    assert flow.handle_callback(client, registration.url, registration.body) is (
        ctt.CallbackOutcome.ACCEPTED
    )
    awaiting(flow.advance(client))  # now asking for a consent
    before, revision = flow.to_json(), flow.revision
    # Ask 1's URL with a body that differs (a field the parser keeps changed).
    other = json.loads(registration.body)
    other["companyAdmin"] = not other.get("companyAdmin", True)
    with pytest.raises(ctt.CallbackInvalidError, match="already answered"):
        flow.handle_callback(client, registration.url, json.dumps(other))
    assert flow.to_json() == before and flow.revision == revision


def test_a_callback_for_a_superseded_ask_is_refused(sim: Simulator, client: ctt.Client) -> None:
    """Before: there was one URL per action, never superseded."""
    flow = ctt.Onboarding(plan())
    first = awaiting(flow.advance(client))
    genuine = sim.approve(first.url, "contoso", post=False)
    assert flow.handle_callback(client, genuine.url, forged(genuine)) is (
        ctt.CallbackOutcome.ACCEPTED
    )
    second = awaiting(flow.advance(client))  # refused by the vendor: asked again
    assert second.action is ctt.ActionType.REGISTRATION
    before, revision = flow.to_json(), flow.revision
    # The genuine answer to the superseded ask is refused too; the new ask still answers.
    with pytest.raises(ctt.CallbackInvalidError):
        flow.handle_callback(client, genuine.url, genuine.body)
    late = sim.approve(first.url, "contoso", post=False) if _pending(sim, first.url) else genuine
    with pytest.raises(ctt.CallbackInvalidError):
        flow.handle_callback(client, late.url, late.body)
    assert flow.to_json() == before and flow.revision == revision
    fresh = sim.approve(second.url, "contoso", post=False)
    assert flow.handle_callback(client, fresh.url, fresh.body) is ctt.CallbackOutcome.ACCEPTED


def _pending(sim: Simulator, url: str) -> bool:
    try:
        sim.approve(url, "contoso", post=False)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- 4. retired key


def test_a_retired_key_is_refused_saying_so_and_a_verify_key_still_works(
    sim: Simulator,
) -> None:
    """Before: one key per client, no ids, no rotation."""
    old, new = os.urandom(32), os.urandom(32)
    flow = ctt.Onboarding(plan())
    with sim.client(callback_keys=ctt.CallbackKeys(old, "old")) as signing_old:
        ask = awaiting(flow.advance(signing_old))
    callback = sim.approve(ask.url, "contoso", post=False)
    assert param(callback.url, "ctt_kid") == "old"
    before, revision = flow.to_json(), flow.revision

    retired = ctt.CallbackKeys(new, "new").retire("old")
    assert retired.retired_key_ids == ("old",)
    with pytest.raises(ctt.CallbackInvalidError, match="retired") as info:
        flow.handle_callback(retired, callback.url, callback.body)
    assert info.value.code == "callback_invalid"
    with pytest.raises(ctt.CallbackInvalidError, match="retired"):
        ctt.verify_callback(retired, callback.url, callback.body)
    # Another ring that simply lacks the key says that instead.
    with pytest.raises(ctt.CallbackInvalidError, match="does not hold"):
        flow.handle_callback(ctt.CallbackKeys(new, "new"), callback.url, callback.body)
    assert flow.to_json() == before and flow.revision == revision

    rotating = ctt.CallbackKeys(new, "new", verify={"old": old})
    assert rotating.verify_key_ids == ("old",)
    assert ctt.verify_callback(rotating, callback.url, callback.body).flow_id == flow.id
    with sim.client(callback_keys=rotating) as signing_new:
        assert flow.handle_callback(signing_new, callback.url, callback.body) is (
            ctt.CallbackOutcome.ACCEPTED
        )
        nxt = awaiting(flow.advance(signing_new))
    assert param(sim_redirect(sim, nxt.url), "ctt_kid") == "new"


def test_key_rings_are_immutable_typed_and_checked() -> None:
    ring = ctt.CallbackKeys(b"k" * 16, "a")
    assert ring.signing_key_id == "a" and ring.max_age == 72 * 3600
    longer = ring.with_max_age(3600).verify_also("another key, 16+ bytes", "b").retire("c")
    assert (ring.verify_key_ids, ring.retired_key_ids, ring.max_age) == ((), (), 72 * 3600)
    assert (longer.verify_key_ids, longer.retired_key_ids, longer.max_age) == (
        ("b",),
        ("c",),
        3600,
    )
    assert "kkkk" not in repr(longer) and "another key" not in repr(longer)
    assert "'a'" in repr(longer)
    with pytest.raises(ctt.InvalidInputError, match="twice"):
        ring.verify_also(b"x" * 16, "a")
    with pytest.raises(ctt.InvalidInputError, match="retired"):
        ring.retire("a")
    with pytest.raises(ctt.InvalidInputError, match="60"):
        ring.with_max_age(10)
    with pytest.raises(ctt.InvalidInputError, match="id"):
        ctt.CallbackKeys(b"k" * 16, "bad id!")
    with pytest.raises(TypeError):
        ctt.CallbackKeys(1234)  # type: ignore[arg-type]
    # One key without an id gets the same derived id every time.
    assert ctt.CallbackKeys(KEY).signing_key_id == ctt.CallbackKeys(KEY.encode()).signing_key_id


def test_an_expired_url_is_refused_and_a_longer_max_age_takes_it(
    sim: Simulator, clock: ctt.ManualClock
) -> None:
    flow = ctt.Onboarding(plan())
    with sim.client(callback_key=KEY, clock=clock) as client:
        ask = awaiting(flow.advance(client))
        callback = sim.approve(ask.url, "contoso", post=False)
        clock.advance(73 * 3600)
        # The client's ring is on the client's clock: 73 hours later, the URL has expired.
        with pytest.raises(ctt.CallbackInvalidError, match="expired"):
            flow.handle_callback(client, callback.url, callback.body)
    patient = ctt.CallbackKeys(KEY, max_age=80 * 3600, clock=clock)
    assert flow.handle_callback(patient, callback.url, callback.body) is (
        ctt.CallbackOutcome.ACCEPTED
    )


async def test_an_async_client_takes_a_ring_and_verifies_with_it(sim: Simulator) -> None:
    old, new = os.urandom(24), os.urandom(24)
    flow = ctt.Onboarding(plan())
    async with sim.async_client(callback_keys=ctt.CallbackKeys(old, "v1")) as first:
        ask = awaiting(await flow.advance_async(first))
    callback = sim.approve(ask.url, "contoso", post=False)
    ring = ctt.CallbackKeys(new, "v2", verify={"v1": old})
    async with sim.async_client(callback_keys=ring) as client:
        keys = client.callback_keys
        assert keys is not None and keys.signing_key_id == "v2"
        assert keys.verify_key_ids == ("v1",)
        assert flow.handle_callback(client, callback.url, callback.body) is (
            ctt.CallbackOutcome.ACCEPTED
        )
        nxt = awaiting(await flow.advance_async(client))
    assert param(sim_redirect(sim, nxt.url), "ctt_kid") == "v2"


def test_a_client_without_a_key_cannot_verify() -> None:
    flow = ctt.Onboarding(plan())
    with ctt.Client(base_url="http://127.0.0.1:9") as keyless:
        assert keyless.callback_keys is None
        with pytest.raises(ctt.InvalidInputError, match="callback key"):
            flow.handle_callback(keyless, REDIRECT, "{}")


# ---------------------------------------------------------------- 5. keys are bytes


def test_random_bytes_are_a_callback_key_end_to_end(sim: Simulator) -> None:
    """Before: Client decoded a bytes key as UTF-8, so os.urandom(32) raised
    UnicodeDecodeError."""
    key = b"\xff\xfe" + os.urandom(30)
    with pytest.raises(UnicodeDecodeError):
        key.decode("utf-8")
    flow = ctt.Onboarding(plan())
    with sim.client(callback_key=key) as client:
        ring = client.callback_keys
        assert ring is not None and ring.signing_key_id == ctt.CallbackKeys(key).signing_key_id
        done = drive(sim, client, flow, keys=key)
    assert isinstance(done, ctt.Complete) and done.tenant_id == CONTOSO


def test_a_string_key_is_its_utf8_bytes(sim: Simulator) -> None:
    text = "clé du portail, assez longue"
    flow = ctt.Onboarding(plan())
    with sim.client(callback_key=text) as client:
        ask = awaiting(flow.advance(client))
    callback = sim.approve(ask.url, "contoso", post=False)
    for keys in (text.encode("utf-8"), bytearray(text.encode("utf-8")), ctt.CallbackKeys(text)):
        assert ctt.verify_callback(keys, callback.url, callback.body).flow_id == flow.id
    with pytest.raises(ctt.CallbackInvalidError):
        ctt.verify_callback(text.encode("latin-1"), callback.url, callback.body)
    assert flow.handle_callback(text.encode("utf-8"), callback.url, callback.body) is (
        ctt.CallbackOutcome.ACCEPTED
    )


@pytest.mark.parametrize("short", [b"", b"fifteen bytes!!", "short", bytearray(b"x" * 15)])
def test_a_key_shorter_than_16_bytes_is_refused_naming_callback_key(
    sim: Simulator, short: bytes | str
) -> None:
    with pytest.raises(ctt.InvalidInputError, match="callback_key") as info:
        sim.client(callback_key=short)
    assert info.value.code == "invalid_input"
    with pytest.raises(ctt.InvalidInputError, match="signing_key"):
        ctt.CallbackKeys(short)
    with pytest.raises(ctt.InvalidInputError, match="callback_keys"):
        sim.client(callback_key=KEY, callback_keys=ctt.CallbackKeys(KEY))


# ---------------------------------------------------------------- 6. two flows, one name


def test_two_flows_with_one_name_never_share_an_enterprise(
    sim: Simulator, client: ctt.Client
) -> None:
    """Before: the second flow's 409 was settled by looking the name up, so both flows shared
    the first one's enterprise."""
    name = unique_name("Acme")
    first, second = ctt.Onboarding(plan(name)), ctt.Onboarding(plan(name))
    awaiting(first.advance(client))
    assert first.enterprise_id is not None
    with pytest.raises(ctt.ConflictError) as info:
        second.advance(client)
    assert info.value.code == "conflict"
    assert name in str(info.value)
    assert [e["name"] for e in sim.enterprises()].count(name) == 1
    assert second.enterprise_id is None
    # Advancing again does not adopt it either.
    with pytest.raises(ctt.ConflictError):
        second.advance(client)
    assert second.enterprise_id is None
    assert [e["name"] for e in sim.enterprises()].count(name) == 1


# ---------------------------------------------------------------- 8. a failed checkpoint


def test_a_failed_checkpoint_before_the_create_sends_nothing(
    sim: Simulator, client: ctt.Client
) -> None:
    """Before: advance took no checkpoint; a create was sent before anything was saved."""
    name = unique_name("Unsaved")
    flow = ctt.Onboarding(
        plan(name, [ctt.Service.PBX, ctt.Service.SMS], gateway_regions=["US-East"])
    )
    saves: list[tuple[int, int]] = []
    before_create: list[int] = []

    class DiskFull(Exception):
        pass

    def checkpoint(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        if json.loads(snapshot.to_json())["create"] is not None:
            before_create.append(previous_revision)
            raise DiskFull("the disk is full")
        saves.append((previous_revision, snapshot.revision))

    with pytest.raises(ctt.FlowStateError, match="DiskFull: the disk is full") as info:
        flow.advance(client, checkpoint)
    assert isinstance(info.value.__cause__, DiskFull)
    assert not [e for e in sim.enterprises() if e["name"] == name]
    assert not [r for r in sim.requests() if r["path"] == "/reseller/newEnterprise"]
    # The revision is the one saved last, before the create's save failed.
    assert saves and before_create == [saves[-1][1]]
    assert flow.revision == saves[-1][1]
    assert flow.enterprise_id is None
    # A CttError from the checkpoint is raised as it is; a working one lets the create go.
    stale = ctt.FlowStateError("stale: the row moved on")

    def refuse(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        raise stale

    with pytest.raises(ctt.FlowStateError) as again:
        flow.advance(client, refuse)
    assert again.value is stale
    assert not [e for e in sim.enterprises() if e["name"] == name]
    awaiting(flow.advance(client, lambda snapshot, previous: None))
    assert [e["name"] for e in sim.enterprises()].count(name) == 1


def test_the_checkpoint_gets_snapshots_and_the_running_flow_reads_its_last_saved_step(
    sim: Simulator, client: ctt.Client
) -> None:
    # The policy of core's FlowHandle (it replaced the binding's lock, under which a read from
    # the checkpoint raised FlowStateError): a read during an advance never blocks and sees the
    # flow as of the last step that finished and was saved.
    flow = ctt.Onboarding(plan())
    seen: list[tuple[int, int, str]] = []
    read: list[int] = []

    def checkpoint(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        assert snapshot is not flow and snapshot.id == flow.id
        seen.append((previous_revision, snapshot.revision, snapshot.to_json()))
        read.append(flow.revision)
        assert flow.to_json()

    start = flow.revision
    ask = awaiting(flow.advance(client, checkpoint))
    # The running flow shows the previous save while the next is being made.
    assert seen and read == [previous for previous, _, _ in seen]
    # Each save follows the previous one, and the last is the flow as advance left it.
    assert seen[0][0] == start
    assert all(a[1] == b[0] for a, b in zip(seen, seen[1:]))
    assert seen[-1][1] == flow.revision and seen[-1][2] == flow.to_json()
    # Nothing changes on an advance that waits for the same ask: no save.
    seen.clear()
    assert flow.advance(client, checkpoint) == ask
    assert seen == []


def test_the_checkpoint_runs_on_the_calling_thread_and_may_call_the_client(
    sim: Simulator, client: ctt.Client, tmp_path: Path
) -> None:
    import threading

    caller = threading.get_ident()
    # A sqlite3 connection may only be used on the thread that made it.
    db = race_worker.connect(str(tmp_path / "one.sqlite3"))
    flow = ctt.Onboarding(plan())
    race_worker.insert(db, flow)
    reprs: list[str] = []
    nested: list[str] = []

    def checkpoint(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        assert threading.get_ident() == caller
        assert client.reseller_id() == sim.reseller_id  # a blocking call from the checkpoint
        reprs.append(repr(flow))
        try:
            flow.advance(client)
        except ctt.FlowStateError as e:
            nested.append(str(e))
        race_worker.cas_save(db, snapshot, previous_revision)

    awaiting(flow.advance(client, checkpoint))
    assert race_worker.load(db, flow.id).to_json() == flow.to_json()
    assert reprs and all("advancing" in r for r in reprs)
    assert nested and "in progress" in nested[0]


async def test_advance_async_runs_the_checkpoint_on_the_event_loop(
    sim: Simulator, async_client: ctt.AsyncClient
) -> None:
    import asyncio
    import threading

    loop_thread = threading.get_ident()
    flow = ctt.Onboarding(plan())
    threads: list[int] = []
    revisions: list[int] = []

    async def checkpoint(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        threads.append(threading.get_ident())
        await asyncio.sleep(0)
        revisions.append(snapshot.revision)

    awaiting(await flow.advance_async(async_client, checkpoint))
    assert threads and set(threads) == {loop_thread}
    assert revisions[-1] == flow.revision

    def boom(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        raise KeyError("lost")

    other = ctt.Onboarding(plan())
    with pytest.raises(ctt.FlowStateError, match="KeyError") as info:
        await other.advance_async(async_client, boom)
    assert isinstance(info.value.__cause__, KeyError)


def test_revisions_rise_and_tokens_can_stay_out_of_the_json(
    sim: Simulator, client: ctt.Client
) -> None:
    flow = ctt.Onboarding(plan())
    assert flow.revision == 0 and not flow.has_unconfirmed_callback
    ask = awaiting(flow.advance(client))
    after_advance = flow.revision
    assert after_advance > 0
    callback = sim.approve(ask.url, "contoso", post=False)
    assert ctt.claimed_flow_id(callback.url) == flow.id
    assert ctt.claimed_flow_id(callback.url[len("https://portal.example") :]) == flow.id
    assert ctt.claimed_flow_id(REDIRECT) is None
    verified = ctt.verify_callback(client, callback.url, callback.body)
    assert verified.nonce == param(callback.url, "ctt_nonce")
    assert int(verified.issued_at.timestamp()) == int(param(callback.url, "ctt_iat"))
    assert verified.issued_at.tzinfo is not None
    respelled = json.dumps(json.loads(callback.body), indent=1, sort_keys=True)
    same = ctt.verify_callback(client, callback.url, respelled)
    assert same.payload_digest == verified.payload_digest and verified.payload_digest
    flow.handle_callback(client, callback.url, callback.body)
    assert flow.revision > after_advance and flow.has_unconfirmed_callback
    token = json.loads(callback.body)["msalAuthenticationResult"]["authenticationResult"]
    access = token["accessToken"]
    assert access in flow.to_json()
    assert access not in flow.to_json_without_tokens()
    awaiting(flow.advance(client))
    assert not flow.has_unconfirmed_callback
    lean = flow.to_json_without_tokens()
    assert access not in lean
    assert ctt.Onboarding.from_json(lean).revision == flow.revision


# ---------------------------------------------------------------- 7. two processes, one file


@dataclass
class Workers:
    db: Path
    a: Connection
    b: Connection
    events: dict[str, Any]

    def call(self, conn: Connection, kind: str, *args: Any) -> None:
        conn.send((kind, args))

    def result(self, conn: Connection) -> dict[str, Any]:
        assert conn.poll(120), "a worker did not answer"
        status, value = conn.recv()
        assert status == "ok", value
        result: dict[str, Any] = value
        return result


@pytest.fixture
def workers(sim: Simulator, tmp_path: Path) -> Iterator[Workers]:
    """Two worker processes (spawned: each has its own interpreter, runtime and client) on one
    SQLite file."""
    db = tmp_path / "flows.sqlite3"
    race_worker.connect(str(db)).close()
    settings = {
        "db": str(db),
        "base_url": sim.base_url,
        "key": KEY.encode(),
        "reseller": credentials(sim.reseller),
        "enterprise": credentials(sim.enterprise),
    }
    ctx = multiprocessing.get_context("spawn")
    events = {name: ctx.Event() for name in ("a_loaded", "b_saved", "one", "two")}
    barrier = ctx.Barrier(2)
    pipes = [ctx.Pipe() for _ in range(2)]
    procs = [
        ctx.Process(target=race_worker.serve, args=(child, settings, events, barrier), daemon=True)
        for _, child in pipes
    ]
    for p in procs:
        p.start()
    try:
        yield Workers(db=db, a=pipes[0][0], b=pipes[1][0], events=events)
    finally:
        for parent, _ in pipes:
            parent.send(None)
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()


def credentials(c: ctt.ResellerCredentials) -> dict[str, str]:
    return {
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "username": c.username,
        "password": c.password,
    }


#: Every consent a flow can ask for, with CALLAPP and the optional consents in the plan.
ALL_CONSENTS = [ctt.ActionType(a) for a in ("GET_CONTACTS_CONSENT", "GET_CDR_CONSENT")] + [
    ctt.ActionType.GET_CALL_RECORDING_CONSENT
]

ROUNDS = 10


def answered(flow: ctt.Onboarding, action: ctt.ActionType) -> bool:
    """True when the stored flow holds the callback for ``action``: confirmed, or accepted and
    waiting for advance to confirm it."""
    progress = flow.progress()
    if isinstance(progress, ctt.AwaitingAdmin) and progress.action is action:
        return False
    return flow.has_unconfirmed_callback or any(
        s.state == "done" and s.detail and "by " in s.detail for s in flow.status()
    )


@dataclass
class Rounds:
    #: The rounds whose callback the stored flow lost.
    lost: list[int]
    #: Stale saves the workers met (A, B), over all rounds.
    stale: tuple[int, int]
    #: The flows as stored at the end, with the consents each was asked for.
    flows: list[tuple[ctt.Onboarding, list[str]]]


def run_rounds(
    sim: Simulator, client: ctt.Client, workers: Workers, rounds: int, mode: str
) -> Rounds:
    """``rounds`` asks, each answered by worker B while worker A advances and saves the same
    stored flow (even rounds: A loads, then B saves, then A saves; odd rounds: both start at
    once); says which rounds' callbacks the stored flow lost."""
    db = race_worker.connect(str(workers.db))
    flows: list[tuple[str, list[str]]] = []
    lost: list[int] = []
    stale_a = stale_b = 0
    current: str | None = None
    for r in range(rounds):
        if current is None:
            flow = ctt.Onboarding(
                plan(
                    services=[ctt.Service.PBX, ctt.Service.SMS, ctt.Service.CALL_APP],
                    gateway_regions=["US-East"],
                    optional_consents=ALL_CONSENTS,
                )
            )
            race_worker.insert(db, flow)
            current = flow.id
            flows.append((current, []))
            ask = awaiting(advance_stored(db, client, current))
        else:
            ask = awaiting(race_worker.load(db, current).progress())
        if ask.action is not ctt.ActionType.REGISTRATION:
            flows[-1][1].append(ask.action.value)
        callback = sim.approve(ask.url, "contoso", post=False)
        forced = r % 2 == 0
        for e in workers.events.values():
            e.clear()
        workers.call(workers.a, "advance", current, mode, forced)
        workers.call(workers.b, "callback", current, callback.url, callback.body, forced)
        a = workers.result(workers.a)
        b = workers.result(workers.b)
        stale_a += a["stale"]
        stale_b += b["stale"]
        assert b["outcomes"][-1] == "accepted"
        if not answered(race_worker.load(db, current), ask.action):
            lost.append(r)
        # On to the next ask (or the end of this flow), as the next batch run would.
        if isinstance(advance_stored(db, client, current), ctt.Complete):
            current = None
    return Rounds(
        lost=lost,
        stale=(stale_a, stale_b),
        flows=[(race_worker.load(db, fid), asked) for fid, asked in flows],
    )


def advance_stored(db: sqlite3.Connection, client: ctt.Client, flow_id: str) -> ctt.Progress:
    flow = race_worker.load(db, flow_id)
    return flow.advance(client, race_worker.Checkpoint(db, flow.revision))


def test_two_processes_racing_on_one_sqlite_file_never_lose_a_callback(
    sim: Simulator, client: ctt.Client, workers: Workers
) -> None:
    """Before: the flow had no revision; a worker that advanced and saved a copy loaded before
    another worker saved a callback overwrote it, the flow asked again and the vendor recorded
    the consent twice."""
    rounds = run_rounds(sim, client, workers, ROUNDS, "cas")
    assert rounds.lost == []
    # Every forced round made worker A's save stale (B saved in between): it reloaded.
    assert rounds.stale[0] >= (ROUNDS + 1) // 2
    consents = Counter((c["enterprise_id"], c["action"]) for c in sim.consents())
    asked = [a for _, actions in rounds.flows for a in actions]
    assert len(asked) >= ROUNDS - 2, "too few consent rounds"
    for flow, actions in rounds.flows:
        assert flow.enterprise_id is not None
        mine = {a: n for (e, a), n in consents.items() if e == flow.enterprise_id}
        # Each consent asked for was granted exactly once at the vendor: never asked again.
        assert mine == dict.fromkeys(actions, 1)
    # Each flow was created once.
    names = Counter(e["name"] for e in sim.enterprises())
    assert all(names[f.plan.enterprise.enterprise_name] == 1 for f, _ in rounds.flows)


def test_the_race_loses_a_callback_when_saves_do_not_compare_revisions(
    sim: Simulator, client: ctt.Client, workers: Workers
) -> None:
    """The control: the same race with a writer that saves without the revision check (the
    batch job before issue 13) loses the callback whenever the interleaving is forced, so the
    test above can fail."""
    rounds = run_rounds(sim, client, workers, 2, "naive")
    assert 0 in rounds.lost  # the forced round


def test_one_callback_delivered_to_two_appliers_at_once_is_saved_once(
    sim: Simulator, client: ctt.Client, workers: Workers
) -> None:
    """The vendor (or a retrying proxy) delivers a callback twice, to two workers at once: one
    loads first and saves last. Its save is stale, it reloads, and the callback is a duplicate
    there; the flow holds it once and the consent is granted once."""
    db = race_worker.connect(str(workers.db))
    flow = ctt.Onboarding(plan())
    race_worker.insert(db, flow)
    asked: list[str] = []
    for _ in range(4):
        ask = awaiting(advance_stored(db, client, flow.id))
        asked.append(ask.action.value)
        callback = sim.approve(ask.url, "contoso", post=False)
        for e in workers.events.values():
            e.clear()
        workers.call(workers.a, "callback_held", flow.id, callback.url, callback.body)
        workers.call(workers.b, "callback", flow.id, callback.url, callback.body, True)
        first, second = workers.result(workers.a), workers.result(workers.b)
        assert second["outcomes"] == ["accepted"]
        assert first["outcomes"] == ["accepted", "duplicate"] and first["stale"] == 1
        assert answered(race_worker.load(db, flow.id), ask.action)
    stored = race_worker.load(db, flow.id)
    granted = Counter(
        c["action"] for c in sim.consents() if c["enterprise_id"] == stored.enterprise_id
    )
    assert granted == Counter(a for a in asked if a != "REGISTRATION")


def test_two_concurrent_advances_of_one_stored_flow_send_one_create(
    sim: Simulator, workers: Workers
) -> None:
    """Before: both copies sent a create, and the 409 of the second was settled by adopting the
    first's enterprise by name (or, with another name owner, someone else's)."""
    db = race_worker.connect(str(workers.db))
    stale = 0
    for _ in range(5):
        flow = ctt.Onboarding(
            plan(services=[ctt.Service.PBX, ctt.Service.SMS], gateway_regions=["US-East"])
        )
        race_worker.insert(db, flow)
        for e in workers.events.values():
            e.clear()
        workers.call(workers.a, "advance_race", flow.id, "one", "two")
        workers.call(workers.b, "advance_race", flow.id, "two", "one")
        results = [workers.result(workers.a), workers.result(workers.b)]
        name = flow.plan.enterprise.enterprise_name
        [enterprise] = [e for e in sim.enterprises() if e["name"] == name]
        stored = race_worker.load(db, flow.id)
        assert stored.enterprise_id == enterprise["id"]
        assert [r["enterprise_id"] for r in results] == [enterprise["id"]] * 2
        assert all(r["progress"] == "AwaitingAdmin" for r in results)
        stale += sum(r["stale"] for r in results)
    # Both loaded the same revision before either saved: the loser of every first save was
    # stale, reloaded, and found what the winner stored.
    assert stale >= 5
    created = [
        r for r in sim.requests() if r["path"] == "/reseller/newEnterprise" and r["status"] == 200
    ]
    assert len(created) == 5
    assert len(sim.enterprises()) == 5


# ---------------------------------------------------------------- helpers


def drive(
    sim: Simulator,
    client: ctt.Client,
    flow: ctt.Onboarding,
    tenant: str = "contoso",
    keys: Any = None,
) -> ctt.Progress:
    """Advances the flow, approving every ask as ``tenant``'s admin, until it completes."""
    for _ in range(30):
        progress = flow.advance(client)
        if not isinstance(progress, ctt.AwaitingAdmin):
            return progress
        callback = sim.approve(progress.url, tenant, post=False)
        outcome = flow.handle_callback(
            keys if keys is not None else client, callback.url, callback.body
        )
        assert outcome is ctt.CallbackOutcome.ACCEPTED
    raise AssertionError("the flow did not finish")


def sim_redirect(sim: Simulator, action_url: str) -> str:
    """The redirect URL (with the flow's genuine tag) an action item URL sends the admin's
    browser to, read without approving (what leaks through a Referer or a log)."""
    redirect = sim.redirect_url_of(action_url)
    assert redirect is not None, "the action item URL is not pending"
    return redirect


def registration_body(sim: Simulator, client: ctt.Client) -> str:
    """A genuine registration body of contoso's admin (for another flow): the shape of what
    ConnecttoTeams posts."""
    other = ctt.Onboarding(plan())
    ask = awaiting(other.advance(client))
    return sim.approve(ask.url, "contoso", post=False).body
