//! The onboarding walkthrough in Rust, against the embedded simulator.
//!
//! It is what a provider's portal does, compressed into one run: Part I with the lists printed,
//! the enterprise created, then every URL the flow asks for approved by the simulated Global
//! Admin, until the flow reports `Complete`. Run it with `make demo`, or pick another simulated
//! tenant: `cargo run -p ctt-onboard-example -- northwind`.

use ctt_onboard::{
    Client, Credentials, ManualClock, NewEnterprise, Onboarding, OnboardingPlan, Progress, Service,
    StepState,
};
use ctt_sim::{SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;

/// The portal's secret for tagging callback URLs. A real portal loads it from its secret store.
const CALLBACK_KEY: &str = "demo-portal-callback-key-please-rotate";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tenant = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "contoso".to_owned());

    // A simulator on 127.0.0.1 stands in for ConnecttoTeams and Microsoft's consent screen.
    let sim = Simulator::start(SimConfig::default())?;
    let c = sim.credentials();
    println!("simulator listening on {}", sim.base_url());

    // One client for the whole portal: the reseller's API user, the enterprise-level API
    // credentials for the /provisioning calls, and the portal's callback key. The demo's clock
    // can be moved, so it crosses the vendor's 30-minute wait at once; a portal keeps the system
    // clock and simply calls `advance` again after `not_before`.
    let clock = ManualClock::new();
    let client = Client::builder()
        .clock(Arc::new(clock.clone()))
        .base_url(sim.base_url())
        .reseller_credentials(Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.username,
            c.password.as_str(),
        ))
        .enterprise_credentials(Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.enterprise_username,
            c.enterprise_password.as_str(),
        ))
        .callback_key(CALLBACK_KEY)
        .build()?;

    // Part I, shown by hand so the lists are visible; the flow below fetches them itself.
    let reseller_id = client.reseller_id().await?;
    println!("\n== Part I: the reseller's lists (reseller {reseller_id})");
    for g in client.sbc_gateways(reseller_id).await? {
        println!(
            "  SBC gateway {} in {}",
            g.sbc_gateway_id, g.sbc_gateway_region
        );
    }
    for p in client.pbx_types(reseller_id).await? {
        let default = if p.is_default { " (default)" } else { "" };
        let disabled = if p.is_disabled { " (disabled)" } else { "" };
        println!("  PBX type {} {}{default}{disabled}", p.id, p.pbx_name);
    }

    // The plan: PBX calling with SMS; gateways chosen by region, the default PBX type.
    let mut plan = OnboardingPlan::new(
        NewEnterprise::new(
            format!("{} Pharmaceuticals", capitalize(&tenant)),
            vec![Service::Pbx, Service::Sms],
        ),
        "https://portal.example/ctt/callback",
    );
    plan.gateway_regions = vec!["US-East".into()];
    let mut flow = Onboarding::new(plan)?;
    println!("\n== Onboarding flow {}", flow.id());

    // A portal's table row: the flow's JSON and its revision. The checkpoint saves with
    // compare-and-swap on the revision (UPDATE ... WHERE id = ? AND revision = ?), after every
    // step that changed the flow and before the create is sent.
    let mut row = (flow.to_json()?, flow.revision());
    loop {
        let progress = {
            let mut save = |f: &Onboarding, previous: u64| -> ctt_onboard::Result<()> {
                if row.1 != previous {
                    return Err(ctt_onboard::Error::flow_state(
                        "another worker saved this flow first",
                    ));
                }
                row = (f.to_json()?, f.revision());
                Ok(())
            };
            flow.advance_with_checkpoint(&client, &mut save).await?
        };
        println!("   (saved at revision {})", row.1);
        flow = Onboarding::from_json(&row.0)?;
        match progress {
            Progress::AwaitingAdmin { action, url } => {
                println!(
                    "\n-> show the Global Admin the {action} URL:\n   {}",
                    shorten(&url)
                );
                // The simulated admin of `tenant` signs in and accepts; the portal's callback
                // route receives the URL and body and hands them to the flow.
                let callback = sim.approve(&url, &tenant).await?;
                let keys = client
                    .callback_keys()
                    .ok_or("the client has a callback key")?;
                match flow.handle_callback(keys, &callback.url, &callback.body.to_string()) {
                    Ok(outcome) => {
                        println!(
                            "   callback {outcome:?}; advance confirms it with ConnecttoTeams"
                        );
                        row = (flow.to_json()?, flow.revision());
                    }
                    Err(e) => {
                        println!("   callback refused [{}]: {}", e.code(), e.message());
                        break;
                    }
                }
            }
            Progress::WaitingUntil { not_before, reason } => {
                let wait = not_before
                    .duration_since(client.clock().now())
                    .unwrap_or_default();
                println!(
                    "\n-> waiting {} minutes: {reason}",
                    wait.as_secs().div_ceil(60)
                );
                println!("   (the demo moves its clocks forward instead of waiting)");
                clock.advance(wait + Duration::from_secs(60));
                sim.advance_clock(wait + Duration::from_secs(60));
            }
            Progress::Complete {
                enterprise_id,
                tenant_id,
            } => {
                println!("\n== Complete: enterprise {enterprise_id}, tenant {tenant_id}");
                break;
            }
        }
    }

    println!("\n== Status");
    for s in flow.status() {
        let mark = match s.state {
            StepState::Done => "done   ",
            StepState::Skipped => "skipped",
            StepState::Waiting => "waiting",
            StepState::Failed => "FAILED ",
            StepState::Pending => "pending",
        };
        println!(
            "  [{mark}] {:<38} {}",
            s.step.title(),
            s.detail.unwrap_or_default()
        );
    }
    println!("\nflow JSON: {} bytes", flow.to_json()?.len());
    Ok(())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn shorten(url: &str) -> String {
    if url.len() > 110 {
        format!("{}…", &url[..110])
    } else {
        url.to_owned()
    }
}
