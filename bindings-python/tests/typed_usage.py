"""A user's typed program, checked by ``mypy --strict`` in ``make test`` and run by
``test_typed_usage.py``: a blocking and an asyncio onboarding against the simulator."""

from __future__ import annotations

import asyncio
from typing import Optional

import ctt_onboard as ctt
from ctt_onboard.testing import Callback, Simulator

KEY: bytes = b"typed-usage-callback-key-000"


def onboard_blocking(sim: Simulator) -> ctt.Complete:
    plan = ctt.OnboardingPlan(
        enterprise=ctt.NewEnterprise(
            enterprise_name="Typed Blocking", services=[ctt.Service.SMS, ctt.Service.CHAT]
        ),
        redirect_url="https://portal.example/cb",
    )
    flow = ctt.Onboarding(plan)
    retry: ctt.RetryPolicy = ctt.RetryPolicy(max_attempts=3)
    keys = ctt.CallbackKeys(KEY, "2026-01", max_age=3600.0).verify_also(b"o" * 16, "2025-12")
    saved: dict[str, tuple[str, int]] = {}

    def checkpoint(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        stored = saved.get(snapshot.id)
        if stored is not None and stored[1] != previous_revision:
            raise ctt.FlowStateError("stale: reload the flow")
        saved[snapshot.id] = (snapshot.to_json(), snapshot.revision)

    with ctt.Client(
        base_url=sim.base_url,
        reseller=sim.reseller,
        enterprise=sim.enterprise,
        callback_keys=keys,
        retry=retry,
        timeout=10.0,
    ) as client:
        user: ctt.AuthenticatedUser = client.authenticated_user()
        reseller_id: Optional[int] = user.reseller_id
        assert reseller_id is not None
        gateways: list[ctt.SbcGateway] = client.sbc_gateways(reseller_id)
        assert gateways
        while True:
            progress: ctt.Progress = flow.advance(client, checkpoint)
            revision: int = flow.revision
            assert saved[flow.id][1] == revision
            if isinstance(progress, ctt.Complete):
                return progress
            if isinstance(progress, ctt.AwaitingAdmin):
                callback: Callback = sim.approve(progress.url, "contoso")
                assert ctt.claimed_flow_id(callback.url) == flow.id
                before = flow.revision
                outcome: ctt.CallbackOutcome = flow.handle_callback(
                    client, callback.url, callback.body
                )
                checkpoint(flow, before)  # the callback's own compare-and-swap save
                assert outcome is ctt.CallbackOutcome.ACCEPTED
            else:
                raise RuntimeError(f"unexpected wait until {progress.not_before.isoformat()}")


async def onboard_async(sim: Simulator) -> ctt.Complete:
    enterprise = ctt.NewEnterprise(enterprise_name="Typed Async", services=[ctt.Service.SMS])
    flow = ctt.Onboarding(ctt.OnboardingPlan(enterprise, "https://portal.example/cb"))
    saves: list[int] = []

    async def checkpoint(snapshot: ctt.Onboarding, previous_revision: int) -> None:
        await asyncio.sleep(0)
        saves.append(snapshot.revision)

    async with sim.async_client(callback_key=KEY) as client:
        while True:
            progress = await flow.advance_async(client, checkpoint)
            if isinstance(progress, ctt.Complete):
                return progress
            if isinstance(progress, ctt.WaitingUntil):
                raise RuntimeError(progress.reason)
            callback = sim.approve(progress.url, "contoso")
            verified: ctt.VerifiedCallback = ctt.verify_callback(KEY, callback.url, callback.body)
            assert verified.flow_id == flow.id and verified.nonce
            flow.handle_callback(KEY, callback.url, callback.body)
            pending: bool = flow.has_unconfirmed_callback
            assert pending and saves


def handle_errors(client: ctt.Client) -> Optional[str]:
    try:
        client.create_enterprise(ctt.NewEnterprise(enterprise_name="", services=[]))
    except ctt.InvalidInputError as e:
        return e.code
    except ctt.CttError as e:
        status: Optional[int] = e.status
        request_id: Optional[str] = e.request_id
        return f"{e.code} {status} {request_id}"
    return None


def main() -> tuple[ctt.Complete, ctt.Complete, Optional[str]]:
    with Simulator() as sim:
        blocking = onboard_blocking(sim)
        concurrent = asyncio.run(onboard_async(sim))
        with sim.client() as client:
            code = handle_errors(client)
        saved: str = ctt.Onboarding(
            ctt.OnboardingPlan(ctt.NewEnterprise("Saved", [ctt.Service.SMS]), "https://p.example/")
        ).to_json()
        assert ctt.Onboarding.from_json(saved).status()[0].state in ("pending", "skipped")
    return blocking, concurrent, code


if __name__ == "__main__":
    print(main())
