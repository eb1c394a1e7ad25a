//! Shared set-up for the integration tests: a simulator and a client pointed at it.
#![allow(dead_code, missing_docs)]

use ctt_onboard::{Client, ClientBuilder, Credentials, ManualClock, RetryPolicy};
use ctt_sim::{SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;

pub fn sim() -> Simulator {
    Simulator::start(SimConfig::default()).expect("simulator starts")
}

pub fn sim_with(config: SimConfig) -> Simulator {
    Simulator::start(config).expect("simulator starts")
}

/// A builder with both credential sets of the simulator and fast retries.
pub fn builder(sim: &Simulator) -> ClientBuilder {
    let c = sim.credentials();
    Client::builder()
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
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        })
        .callback_key("test-callback-key-0123456789")
}

/// A builder with only the reseller's credentials: no enterprise-level ones, no callback key.
pub fn reseller_only(sim: &Simulator) -> ClientBuilder {
    let c = sim.credentials();
    Client::builder()
        .base_url(sim.base_url())
        .reseller_credentials(Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.username,
            c.password.as_str(),
        ))
}

pub fn client(sim: &Simulator) -> Client {
    builder(sim).build().expect("client builds")
}

/// A client whose clock the test moves (together with the simulator's).
pub fn client_with_clock(sim: &Simulator) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = builder(sim)
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client builds");
    (client, clock)
}

/// How many API requests the simulator saw for a path prefix.
pub fn count(sim: &Simulator, prefix: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path.starts_with(prefix))
        .count()
}
