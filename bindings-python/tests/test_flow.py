"""The onboarding flow through the binding: every simulator tenant, blocking and asyncio,
callbacks, cancellation, and a flow persisted to JSON and resumed in another interpreter."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Union

import ctt_onboard as ctt
import pytest
from conftest import KEY, unique_name
from ctt_onboard.testing import Simulator

REDIRECT = "https://portal.example/onboarding/callback"
HALF_HOUR_AND_A_MINUTE = 31 * 60
#: The simulator's tenants' Microsoft tenant ids.
TENANT_IDS = {
    "contoso": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "fabrikam": "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "northwind": "6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b",
}

#: The consents a PBX + SMS enterprise asks for, in order, with service-provider management.
CONSENTS = [
    ctt.ActionType.REGISTRATION,
    ctt.ActionType.GET_USER_SYNC_CONSENT,
    ctt.ActionType.GET_PRESENCE_CONSENT,
    ctt.ActionType.GET_AGENT_CONSENT,
    ctt.ActionType.GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT,
]


def new_plan() -> ctt.OnboardingPlan:
    return ctt.OnboardingPlan(
        enterprise=ctt.NewEnterprise(
            enterprise_name=unique_name("Flow"),
            services=[ctt.Service.PBX, ctt.Service.SMS],
            restrict_admin_access=True,
        ),
        redirect_url=REDIRECT,
        gateway_regions=["US-East"],
    )


Steps = list[Union[str, ctt.ActionType]]


def drive(
    sim: Simulator, client: ctt.Client, clock: ctt.ManualClock, flow: ctt.Onboarding, tenant: str
) -> tuple[ctt.Progress, Steps]:
    """Advances the flow, approving each URL as ``tenant``'s admin, until it completes, or a
    callback is rejected (then that error is raised)."""
    seen: Steps = []
    for _ in range(20):
        progress = flow.advance(client)
        if isinstance(progress, ctt.AwaitingAdmin):
            seen.append(progress.action)
            callback = sim.approve(progress.url, tenant)
            assert flow.handle_callback(KEY, callback.url, callback.body) is (
                ctt.CallbackOutcome.ACCEPTED
            )
        elif isinstance(progress, ctt.WaitingUntil):
            seen.append("wait")
            assert progress.not_before.timestamp() > clock.now()
            clock.advance(HALF_HOUR_AND_A_MINUTE)
            sim.advance_clock(HALF_HOUR_AND_A_MINUTE)
        else:
            return progress, seen
    raise AssertionError(f"the flow did not finish: {seen}")


async def drive_async(
    sim: Simulator,
    client: ctt.AsyncClient,
    clock: ctt.ManualClock,
    flow: ctt.Onboarding,
    tenant: str,
) -> tuple[ctt.Progress, Steps]:
    seen: Steps = []
    for _ in range(20):
        progress = await flow.advance_async(client)
        if isinstance(progress, ctt.AwaitingAdmin):
            seen.append(progress.action)
            callback = sim.approve(progress.url, tenant)
            outcome = flow.handle_callback(KEY.encode(), callback.url, callback.body)
            assert outcome is ctt.CallbackOutcome.ACCEPTED
        elif isinstance(progress, ctt.WaitingUntil):
            seen.append("wait")
            clock.advance(HALF_HOUR_AND_A_MINUTE)
            sim.advance_clock(HALF_HOUR_AND_A_MINUTE)
        else:
            return progress, seen
    raise AssertionError(f"the flow did not finish: {seen}")


def step_states(flow: ctt.Onboarding) -> dict[str, str]:
    return {s.step: s.state for s in flow.status()}


def check_complete(
    sim: Simulator, flow: ctt.Onboarding, progress: ctt.Progress, tenant: str
) -> None:
    assert isinstance(progress, ctt.Complete)
    [enterprise] = sim.enterprises()
    assert progress.enterprise_id == enterprise["id"] == flow.enterprise_id
    assert enterprise["tenant_id"] == progress.tenant_id == flow.tenant_id
    assert enterprise["managed_by_provider"] is True
    assert flow.is_complete
    assert flow.progress() == progress
    states = step_states(flow)
    assert set(states.values()) <= {"done", "skipped"}
    assert states["create_enterprise"] == "done"
    assert {c["action"] for c in sim.consents()} >= {a.value for a in CONSENTS[1:]}
    assert enterprise["tenant_id"] == TENANT_IDS[tenant]


def test_contoso_completes(sim: Simulator, client: ctt.Client, clock: ctt.ManualClock) -> None:
    flow = ctt.Onboarding(new_plan())
    progress, seen = drive(sim, client, clock, flow, "contoso")
    check_complete(sim, flow, progress, "contoso")
    assert seen == CONSENTS
    assert step_states(flow)["provision_tenant_admin_api"] == "skipped"
    assert flow.advance(client) == progress


def test_fabrikam_provisions_the_tenant_admin_api(
    sim: Simulator, client: ctt.Client, clock: ctt.ManualClock
) -> None:
    flow = ctt.Onboarding(new_plan())
    progress, seen = drive(sim, client, clock, flow, "fabrikam")
    check_complete(sim, flow, progress, "fabrikam")
    assert seen == CONSENTS
    assert step_states(flow)["provision_tenant_admin_api"] == "done"
    assert any(r["path"] == "/provisioning/provisionTenantAdminAPI" for r in sim.requests())


def test_northwind_waits_half_an_hour_then_completes(
    sim: Simulator, client: ctt.Client, clock: ctt.ManualClock
) -> None:
    flow = ctt.Onboarding(new_plan())
    progress, seen = drive(sim, client, clock, flow, "northwind")
    check_complete(sim, flow, progress, "northwind")
    assert "wait" in seen
    assert seen[: len(CONSENTS)] == CONSENTS
    assert seen[seen.index("wait") + 1 :] == [
        ctt.ActionType.GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT
    ]


def test_northwind_reports_waiting_until(sim: Simulator, client: ctt.Client) -> None:
    flow = ctt.Onboarding(new_plan())
    for _ in range(len(CONSENTS)):
        progress = flow.advance(client)
        assert isinstance(progress, ctt.AwaitingAdmin)
        callback = sim.approve(progress.url, "northwind")
        flow.handle_callback(KEY, callback.url, callback.body)
    waiting = flow.advance(client)
    assert isinstance(waiting, ctt.WaitingUntil)
    assert "30" in waiting.reason or "Administrator" in waiting.reason
    assert flow.progress() == waiting
    assert flow.advance(client) == waiting


def test_tailspin_registration_is_rejected(sim: Simulator, client: ctt.Client) -> None:
    flow = ctt.Onboarding(new_plan())
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    assert progress.action is ctt.ActionType.REGISTRATION
    callback = sim.approve(progress.url, "tailspin")
    before = flow.to_json()
    with pytest.raises(ctt.CallbackInvalidError, match="Global Admin"):
        flow.handle_callback(KEY, callback.url, callback.body)
    assert flow.to_json() == before
    assert flow.advance(client) == progress


@pytest.mark.parametrize("tenant", ["contoso", "fabrikam", "northwind"])
async def test_each_tenant_completes_async(
    sim: Simulator, async_client: ctt.AsyncClient, clock: ctt.ManualClock, tenant: str
) -> None:
    flow = ctt.Onboarding(new_plan())
    progress, seen = await drive_async(sim, async_client, clock, flow, tenant)
    check_complete(sim, flow, progress, tenant)
    assert ("wait" in seen) is (tenant == "northwind")
    provision = step_states(flow)["provision_tenant_admin_api"]
    assert provision == ("done" if tenant == "fabrikam" else "skipped")


async def test_tailspin_is_rejected_async(sim: Simulator, async_client: ctt.AsyncClient) -> None:
    flow = ctt.Onboarding(new_plan())
    progress = await flow.advance_async(async_client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    callback = sim.approve(progress.url, "tailspin")
    with pytest.raises(ctt.CallbackInvalidError):
        flow.handle_callback(KEY, callback.url, callback.body)
    assert sim.enterprises()[0]["tenant_id"] is None


def test_callbacks_are_verified(sim: Simulator, client: ctt.Client) -> None:
    flow = ctt.Onboarding(new_plan())
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    callback = sim.approve(progress.url, "contoso")
    verified = ctt.verify_callback(KEY, callback.url, callback.body)
    assert verified.flow_id == flow.id
    assert verified.action is ctt.ActionType.REGISTRATION
    assert verified.payload.office_user_type == "GLOBAL_ADMIN"
    with pytest.raises(ctt.CallbackInvalidError):
        flow.handle_callback("another-key-of-enough-length", callback.url, callback.body)
    tampered = callback.url.replace("REGISTRATION", "GET_AGENT_CONSENT")
    with pytest.raises(ctt.CallbackInvalidError):
        flow.handle_callback(KEY, tampered, callback.body)
    other = ctt.Onboarding(new_plan())
    with pytest.raises(ctt.CallbackInvalidError):
        other.handle_callback(KEY, callback.url, callback.body)
    assert flow.handle_callback(KEY, callback.url, callback.body) is ctt.CallbackOutcome.ACCEPTED
    assert flow.handle_callback(KEY, callback.url, callback.body) is ctt.CallbackOutcome.DUPLICATE


def test_plans_are_checked(sim: Simulator) -> None:
    plan = new_plan()
    plan.redirect_url = "http://portal.example/cb"
    with pytest.raises(ctt.InvalidInputError, match="redirect"):
        ctt.Onboarding(plan)
    plan = new_plan()
    assert ctt.OnboardingPlan.from_dict(plan.to_dict()) == plan
    assert ctt.Onboarding(plan).plan == plan
    with sim.client() as keyless:
        with pytest.raises(ctt.InvalidInputError, match="callback key"):
            ctt.Onboarding(plan).advance(keyless)


def test_status_lists_every_step(sim: Simulator, client: ctt.Client) -> None:
    flow = ctt.Onboarding(new_plan())
    assert flow.progress() is None
    before = flow.status()
    assert len(before) == 16
    assert before[0].step == "sbc_gateways" and before[0].title
    assert all(s.state in ("pending", "skipped") for s in before)
    flow.advance(client)
    after = {s.step: s for s in flow.status()}
    assert after["create_enterprise"].state == "done"
    assert after["create_enterprise"].updated_at is not None
    assert after["registration"].state == "waiting"
    assert after["call_app_consent"].state == "skipped"
    assert "Onboarding" in repr(flow) and "AwaitingAdmin" in repr(flow)


async def test_a_cancelled_advance_keeps_the_steps_that_finished(
    sim: Simulator, async_client: ctt.AsyncClient
) -> None:
    flow = ctt.Onboarding(new_plan())
    sim.set_faults(rate=1.0, kinds=["latency"], latency_ms=30_000, paths=["/enterprise"])
    task = asyncio.ensure_future(flow.advance_async(async_client))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if any(r["path"] == "/enterprise/getActionItemUrl" for r in sim.requests()):
            break
    assert len(sim.enterprises()) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert step_states(flow)["create_enterprise"] == "done"
    sim.clear_faults()
    progress = await flow.advance_async(async_client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    assert progress.action is ctt.ActionType.REGISTRATION
    assert len(sim.enterprises()) == 1
    creates = [r for r in sim.requests() if r["path"] == "/reseller/newEnterprise"]
    assert len(creates) == 1


RESUME = textwrap.dedent(
    """
    import json, sys
    import ctt_onboard as ctt

    base_url, state_path, callback_path, key = sys.argv[1:5]
    with open(callback_path) as f:
        callback = json.load(f)
    flow = ctt.Onboarding.from_json(open(state_path).read())
    outcome = flow.handle_callback(key, callback["url"], callback["body"])
    creds = json.loads(sys.stdin.read())
    with ctt.Client(
        base_url=base_url,
        reseller=ctt.ResellerCredentials(**creds["reseller"]),
        enterprise=ctt.EnterpriseCredentials(**creds["enterprise"]),
        callback_key=key,
    ) as client:
        progress = flow.advance(client)
    with open(state_path, "w") as f:
        f.write(flow.to_json())
    print(json.dumps({"id": flow.id, "outcome": outcome.value, "action": progress.action.value,
                      "url": progress.url}))
    """
)


def test_a_flow_saved_as_json_resumes_in_another_interpreter(
    sim: Simulator, client: ctt.Client, clock: ctt.ManualClock, tmp_path: Path
) -> None:
    flow = ctt.Onboarding(new_plan())
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    callback = sim.approve(progress.url, "contoso")
    state = tmp_path / "flow.json"
    state.write_text(flow.to_json())
    (tmp_path / "callback.json").write_text(
        json.dumps({"url": callback.url, "body": callback.body})
    )
    creds = {
        "reseller": {
            "client_id": sim.reseller.client_id,
            "client_secret": sim.reseller.client_secret,
            "username": sim.reseller.username,
            "password": sim.reseller.password,
        },
        "enterprise": {
            "client_id": sim.enterprise.client_id,
            "client_secret": sim.enterprise.client_secret,
            "username": sim.enterprise.username,
            "password": sim.enterprise.password,
        },
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            RESUME,
            sim.base_url,
            str(state),
            str(tmp_path / "callback.json"),
            KEY,
        ],
        input=json.dumps(creds),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {
        "id": flow.id,
        "outcome": "accepted",
        "action": "GET_USER_SYNC_CONSENT",
        "url": report["url"],
    }
    resumed = ctt.Onboarding.from_json(state.read_text())
    assert resumed.id == flow.id
    assert resumed.tenant_id is not None
    assert resumed.progress() == ctt.AwaitingAdmin(
        ctt.ActionType.GET_USER_SYNC_CONSENT, report["url"]
    )
    callback = sim.approve(report["url"], "contoso")
    assert resumed.handle_callback(KEY, callback.url, callback.body) is ctt.CallbackOutcome.ACCEPTED
    progress, seen = drive(sim, client, clock, resumed, "contoso")
    check_complete(sim, resumed, progress, "contoso")
    assert seen == CONSENTS[2:]
    assert len([r for r in sim.requests() if r["path"] == "/reseller/newEnterprise"]) == 1


def test_a_newer_schema_is_refused() -> None:
    flow = ctt.Onboarding(new_plan())
    data = json.loads(flow.to_json())
    data["schema"] = 999
    with pytest.raises(ctt.InvalidInputError):
        ctt.Onboarding.from_json(json.dumps(data))
