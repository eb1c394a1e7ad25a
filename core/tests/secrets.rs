//! Canary secrets through every path: trace-level logs (ours, reqwest's, hyper's), Debug,
//! Display, errors and the flow's status: none may show a secret.
//!
//! This file holds one test: `tracing` caches which callsites are enabled process-wide, so a
//! test on another thread of the same process could hide events from this one's scoped subscriber.

mod common;

use common::*;
use ctt_onboard::{
    Client, Credentials, NewEnterprise, Onboarding, OnboardingPlan, Progress, Service,
};
use ctt_sim::{SimConfig, SimCredentials};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const CANARIES: [&str; 5] = [
    "CANARY-secret-5521",
    "CANARY-password-5521",
    "CANARY-ent-password-5521",
    "CANARY-callback-key-5521",
    "CANARY-wrong-password-5521",
];

#[tokio::test]
async fn no_secret_reaches_trace_logs_debug_errors_or_status() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = sim_with(SimConfig {
        credentials: SimCredentials {
            client_secret: CANARIES[0].into(),
            password: CANARIES[1].into(),
            enterprise_password: CANARIES[2].into(),
            ..SimCredentials::default()
        },
        ..SimConfig::default()
    });
    let client = builder(&sim)
        .callback_key(CANARIES[3])
        .build()
        .expect("client");
    let mut texts = vec![format!("{client:?}")];

    let mut plan = OnboardingPlan::new(
        NewEnterprise::new("Canary Flow", vec![Service::Pbx]),
        "https://portal.example/cb",
    );
    plan.gateway_regions = vec!["US-West".into()];
    let mut flow = Onboarding::new(plan).expect("flow");
    let mut msal_tokens = Vec::new();
    loop {
        match flow.advance(&client).await.expect("advance") {
            Progress::AwaitingAdmin { url, .. } => {
                let cb = sim.approve(&url, "fabrikam").await.expect("approve");
                let auth = &cb.body["msalAuthenticationResult"]["authenticationResult"];
                msal_tokens.push(auth["accessToken"].as_str().expect("token").to_owned());
                msal_tokens.push(auth["idToken"].as_str().expect("token").to_owned());
                let keys = client.callback_keys().expect("keys");
                flow.handle_callback(keys, &cb.url, &cb.body.to_string())
                    .expect("callback");
            }
            Progress::Complete { .. } => break,
            Progress::WaitingUntil { .. } => panic!("fabrikam does not wait"),
        }
    }
    texts.push(format!("{flow:?}"));
    texts.push(serde_json::to_string(&flow.status()).expect("status json"));
    texts.push(format!("{:?}", flow.status()));

    let c = sim.credentials();
    let wrong = Client::builder()
        .base_url(sim.base_url())
        .reseller_credentials(Credentials::new(
            &c.client_id,
            CANARIES[0],
            &c.username,
            CANARIES[4],
        ))
        .build()
        .expect("client");
    let err = wrong.sbc_gateways(54).await.expect_err("refused");
    texts.push(format!("{err} {err:?}"));

    let logs = String::from_utf8(capture.0.lock().expect("capture").clone()).expect("utf-8 logs");
    assert!(
        logs.contains("ctt call"),
        "the capture saw the library's events"
    );
    assert!(logs.lines().count() > 50, "trace level is on");
    texts.push(logs);
    for text in &texts {
        for secret in CANARIES
            .iter()
            .map(|s| s.to_string())
            .chain(msal_tokens.iter().cloned())
        {
            assert!(
                !text.contains(&secret),
                "a secret leaked: {secret:.20}… in {:.300}",
                text
            );
        }
    }
}
