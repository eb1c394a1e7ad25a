//! The onboarding walkthrough against the embedded simulator: Part I, then the registration URL
//! approved by the simulated Global Admin.

use ctt_onboard::{ActionType, Client, Credentials, NewEnterprise, Service};
use ctt_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A simulator on 127.0.0.1 stands in for ConnecttoTeams and Microsoft.
    let sim = Simulator::start(SimConfig::default())?;
    let c = sim.credentials();
    println!("simulator listening on {}", sim.base_url());

    // The reseller's API user; the enterprise-level credentials serve the /provisioning calls.
    let client = Client::builder()
        .base_url(sim.base_url())
        .reseller_credentials(Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.username,
            c.password.as_str(),
        ))
        .build()?;

    // Part I.
    let reseller_id = client.reseller_id().await?;
    println!("reseller id: {reseller_id}");
    let gateways = client.sbc_gateways(reseller_id).await?;
    for g in &gateways {
        println!(
            "SBC gateway {} ({})",
            g.sbc_gateway_id, g.sbc_gateway_region
        );
    }
    let pbx_types = client.pbx_types(reseller_id).await?;
    for p in &pbx_types {
        println!(
            "PBX type {} {}{}",
            p.id,
            p.pbx_name,
            if p.is_default { " (default)" } else { "" }
        );
    }
    let mut enterprise =
        NewEnterprise::new("Contoso Pharmaceuticals", vec![Service::Pbx, Service::Sms]);
    enterprise.sbc_gateways = vec![gateways[0].sbc_gateway_id];
    enterprise.pbx_id = pbx_types
        .iter()
        .filter(|p| p.is_default)
        .map(|p| p.id)
        .collect();
    enterprise.restrict_admin_access = Some(true);
    let enterprise_id = client.create_enterprise(&enterprise).await?;
    println!("created enterprise {enterprise_id}");

    // Part II: the registration URL, approved by the simulated Global Admin of "contoso".
    let url = client
        .action_item_url(
            &ActionType::Registration,
            &enterprise.enterprise_name,
            "https://portal.example/callback",
        )
        .await?;
    println!("registration URL: {url}");
    let callback = sim.approve(&url, "contoso").await?;
    println!(
        "callback for {}: {}",
        callback.url, callback.body["officeUserType"]
    );
    Ok(())
}
