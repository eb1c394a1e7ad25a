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

            while True:
                progress = flow.advance(client)
                # A portal saves the flow's JSON here, in its own database, after every call.
                flow = ctt.Onboarding.from_json(flow.to_json())

                if isinstance(progress, ctt.AwaitingAdmin):
                    print(f"\n-> show the Global Admin the {progress.action} URL:")
                    print(f"   {shorten(progress.url)}")
                    # The simulated admin of `tenant` signs in and accepts; the portal's callback
                    # route receives the URL and body and hands them to the flow.
                    callback = sim.approve(progress.url, tenant)
                    try:
                        outcome = flow.handle_callback(CALLBACK_KEY, callback.url, callback.body)
                    except ctt.CallbackInvalidError as e:
                        print(f"   callback refused [{e.code}]: {e}")
                        break
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
            print(f"\nflow JSON: {len(flow.to_json())} bytes")
            return 0 if flow.is_complete else 1


def shorten(url: str) -> str:
    """Action URLs are long; the demo prints their start."""
    return url if len(url) <= 110 else url[:110] + "…"


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
