"""The onboarding walkthrough in Python, against the embedded simulator.

It is what a provider's portal does, compressed into one run: Part I with the lists printed, the
enterprise created, then every URL the flow asks for approved by the simulated Global Admin,
until the flow reports ``Complete``. Run it from the repository root with::

    .venv/bin/python examples/python/walkthrough.py            # the ready tenant, contoso
    .venv/bin/python examples/python/walkthrough.py northwind  # with the 30-minute wait

The same walkthrough in Rust is examples/rust/src/main.rs.
"""

from __future__ import annotations

import sys

import ctt_onboard as ctt
from ctt_onboard.testing import Simulator

#: The portal's secret for tagging callback URLs. A real portal loads it from its secret store.
CALLBACK_KEY = "demo-portal-callback-key-please-rotate"


def main(tenant: str = "contoso") -> int:
    # A simulator on 127.0.0.1 stands in for ConnecttoTeams and Microsoft's consent screen.
    with Simulator() as sim:
        print(f"simulator listening on {sim.base_url}")

        # One client for the whole portal: the reseller's API user, the enterprise-level API
        # credentials for the /provisioning calls (sim.client() fills both in), and the portal's
        # callback key. The demo's clock can be moved, so it crosses the vendor's 30-minute wait
        # at once; a portal keeps the system clock and calls advance() again after not_before.
        clock = ctt.ManualClock()
        with sim.client(callback_key=CALLBACK_KEY, clock=clock) as client:
            # Part I, shown by hand so the lists are visible; the flow below fetches them itself.
            reseller_id = client.reseller_id()
            print(f"\n== Part I: the reseller's lists (reseller {reseller_id})")
            for g in client.sbc_gateways(reseller_id):
                print(f"  SBC gateway {g.sbc_gateway_id} in {g.sbc_gateway_region}")
            for p in client.pbx_types(reseller_id):
                default = " (default)" if p.is_default else ""
                disabled = " (disabled)" if p.is_disabled else ""
                print(f"  PBX type {p.id} {p.pbx_name}{default}{disabled}")

            # The plan: PBX calling with SMS; gateways chosen by region, the default PBX type.
            plan = ctt.OnboardingPlan(
                enterprise=ctt.NewEnterprise(
                    enterprise_name=f"{tenant.capitalize()} Pharmaceuticals",
                    services=[ctt.Service.PBX, ctt.Service.SMS],
                    restrict_admin_access=True,
                ),
                redirect_url="https://portal.example/ctt/callback",
                gateway_regions=["US-East"],
            )
            flow = ctt.Onboarding(plan)
            print(f"\n== Onboarding flow {flow.id}")

            # A portal keeps each flow in its own database as (JSON, revision), and saves with
            # compare-and-swap on the revision (UPDATE flows SET json = ?, revision = ? WHERE
            # id = ? AND revision = ?): this dict stands in for that table. advance() calls the
            # checkpoint after every step and before the create; a stale save raises, advance
            # stops, and the portal reloads the flow and advances again.
            table: dict[str, tuple[str, int]] = {flow.id: (flow.to_json(), flow.revision)}

            def save(snapshot: ctt.Onboarding, previous_revision: int) -> None:
                if table[snapshot.id][1] != previous_revision:
                    raise ctt.FlowStateError("another worker saved this flow: reload it")
                table[snapshot.id] = (snapshot.to_json(), snapshot.revision)

            while True:
                progress = flow.advance(client, save)
                # Every request handler loads the flow from the table.
                flow = ctt.Onboarding.from_json(table[flow.id][0])

                if isinstance(progress, ctt.AwaitingAdmin):
                    print(f"\n-> show the Global Admin the {progress.action} URL:")
                    print(f"   {shorten(progress.url)}")
                    # The simulated admin of `tenant` signs in and accepts; the portal's callback
                    # route receives the URL and body, loads the flow the URL names and hands
                    # them to it, verified with the client's key ring, then saves it (CAS).
                    callback = sim.approve(progress.url, tenant)
                    claimed = ctt.claimed_flow_id(callback.url)
                    assert claimed is not None
                    flow = ctt.Onboarding.from_json(table[claimed][0])
                    loaded = flow.revision
                    try:
                        outcome = flow.handle_callback(client, callback.url, callback.body)
                    except ctt.CallbackInvalidError as e:
                        print(f"   callback refused [{e.code}]: {e}")
                        break
                    save(flow, loaded)
                    print(f"   callback {outcome.value}")

                elif isinstance(progress, ctt.WaitingUntil):
                    wait = progress.not_before.timestamp() - clock.now()
                    print(f"\n-> waiting {max(0, round(wait / 60))} minutes: {progress.reason}")
                    print("   (the demo moves its clocks forward instead of waiting)")
                    clock.advance(wait + 60)
                    sim.advance_clock(wait + 60)

                else:  # ctt.Complete
                    print(
                        f"\n== Complete: enterprise {progress.enterprise_id}, "
                        f"tenant {progress.tenant_id}"
                    )
                    break

            print("\n== Status")
            for s in flow.status():
                print(f"  [{s.state:<7}] {s.title:<38} {s.detail or ''}")
            print(f"\nflow JSON: {len(flow.to_json())} bytes, revision {flow.revision}")
            return 0 if flow.is_complete else 1


def shorten(url: str) -> str:
    """Action URLs are long; the demo prints their start."""
    return url if len(url) <= 110 else url[:110] + "…"


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
