//! The embedded simulator: `ctt_sim`'s [`SimHandle`] and its records (derived in `ctt_sim`), with
//! numbers converted and `SimError` mapped onto `CttException` by its code.

use crate::error::invalid_input;
use ctt_onboard::{CttError, Error, ErrorCode};
use ctt_sim::control::{SimHandle, SimOptions, SimTenant};
use ctt_sim::state::{ConsentRecord, RequestRecord, SimCredentials, SimEnterprise};
use ctt_sim::{CannedResponse, FaultConfig, SimError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn sim_error(e: SimError) -> CttError {
    let code = ErrorCode::parse(e.code()).unwrap_or(ErrorCode::Api);
    Error::new(code, format!("simulator: {}", e.message))
        .with_status(e.status)
        .into()
}

fn non_negative(what: &str, v: i64) -> Result<u64, CttError> {
    u64::try_from(v).map_err(|_| invalid_input(format!("{what} is {v}; it must not be negative")))
}

/// The callback the portal would receive after the admin acted; `toString()` masks the body's
/// tokens. (Not ctt-sim's `Callback`: uniffi 0.32 cannot rename it away from JNA's `Callback`.)
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct SimCallback {
    /// The redirect URL exactly as given to `getActionItemUrl`.
    pub url: String,
    /// The callback body (JSON).
    pub body: String,
}

impl std::fmt::Debug for SimCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimCallback(url={}, body=<{} bytes, tokens masked>)",
            self.url,
            self.body.len()
        )
    }
}

impl From<ctt_sim::state::Callback> for SimCallback {
    fn from(c: ctt_sim::state::Callback) -> Self {
        Self {
            url: c.url,
            body: c.body.to_string(),
        }
    }
}

crate::export! {
    /// Every simulated tenant.
    pub fn sim_tenants() -> Vec<SimTenant> {
        ctt_sim::control::sim_tenants()
    }
}

/// A running simulator on 127.0.0.1; after `close()` or `stop()` every call is `FlowState`.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Display)]
pub struct Simulator {
    sim: SimHandle,
}

impl std::fmt::Display for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulator(baseUrl={})", self.sim.base_url())
    }
}

crate::export! {
    impl Simulator {
        /// Starts a simulator on a free port of 127.0.0.1 and returns once it listens.
        #[uniffi::constructor]
        pub fn start() -> Result<Arc<Self>, CttError> {
            Self::start_with(SimOptions::default())
        }

        /// Starts a simulator with `options` (port, token lifetime, faults, credentials).
        #[uniffi::constructor]
        pub fn start_with(options: SimOptions) -> Result<Arc<Self>, CttError> {
            Ok(Arc::new(Self { sim: SimHandle::start(options).map_err(sim_error)? }))
        }

        /// `http://127.0.0.1:<port>`.
        pub fn base_url(&self) -> String {
            self.sim.base_url().to_owned()
        }

        /// The credentials it accepts.
        pub fn credentials(&self) -> SimCredentials {
            self.sim.credentials()
        }

        /// The reseller id of its one reseller.
        pub fn reseller_id(&self) -> Result<i64, CttError> {
            self.sim.reseller_id().map_err(sim_error)
        }

        /// The simulator's current time.
        pub fn now(&self) -> Result<SystemTime, CttError> {
            let ms = self.sim.now_ms().map_err(sim_error)?;
            Ok(UNIX_EPOCH + Duration::from_millis(ms))
        }

        /// Moves the simulator's clock forward by `ms` milliseconds.
        pub fn advance_clock_ms(&self, ms: i64) -> Result<(), CttError> {
            self.sim.advance_clock_ms(non_negative("ms", ms)?).map_err(sim_error)
        }

        /// Replaces the injected faults (and restarts their sequence from the seed).
        pub fn set_faults(&self, faults: FaultConfig) -> Result<(), CttError> {
            self.sim.set_faults(faults).map_err(sim_error)
        }

        /// Answers every API request under `canned.pathPrefix` with `canned` until `clearCanned()`.
        pub fn set_canned(&self, canned: CannedResponse) -> Result<(), CttError> {
            self.sim.set_canned(canned).map_err(sim_error)
        }

        /// Removes every canned response.
        pub fn clear_canned(&self) -> Result<(), CttError> {
            self.sim.clear_canned().map_err(sim_error)
        }

        /// Changes the lifetime of tokens issued from now on.
        pub fn set_token_ttl_ms(&self, ms: i64) -> Result<(), CttError> {
            self.sim.set_token_ttl_ms(non_negative("ms", ms)?).map_err(sim_error)
        }

        /// Changes the lifetime of the MSAL results the consent screen issues from now on.
        pub fn set_msal_ttl_ms(&self, ms: i64) -> Result<(), CttError> {
            self.sim.set_msal_ttl_ms(non_negative("ms", ms)?).map_err(sim_error)
        }

        /// Like `approve`, but never posts the callback anywhere.
        pub fn approve_without_posting(&self, url: String, tenant: String) -> Result<SimCallback, CttError> {
            Ok(self.sim.approve_without_posting(&url, &tenant).map_err(sim_error)?.into())
        }

        /// The redirect URL a pending action item URL will post its callback to, or null.
        pub fn redirect_url_of(&self, url: String) -> Result<Option<String>, CttError> {
            self.sim.redirect_url_of(&url).map_err(sim_error)
        }

        /// Token requests that succeeded, by level (`reseller`, `enterprise`).
        pub fn token_requests(&self, level: String) -> Result<i64, CttError> {
            let n = self.sim.token_requests(&level).map_err(sim_error)?;
            Ok(i64::try_from(n).unwrap_or(i64::MAX))
        }

        /// The enterprises it holds.
        pub fn enterprises(&self) -> Result<Vec<SimEnterprise>, CttError> {
            self.sim.enterprises().map_err(sim_error)
        }

        /// The consents granted so far.
        pub fn consents(&self) -> Result<Vec<ConsentRecord>, CttError> {
            self.sim.consents().map_err(sim_error)
        }

        /// Every API request answered so far, in order.
        pub fn requests(&self) -> Result<Vec<RequestRecord>, CttError> {
            self.sim.requests().map_err(sim_error)
        }

        /// Everything it holds (enterprises, consents, requests, token counts) as JSON.
        pub fn snapshot(&self) -> Result<String, CttError> {
            Ok(self.sim.snapshot().map_err(sim_error)?.to_string())
        }

        /// Stops the server now (as `close()` does; an `approve` in flight finishes first).
        pub fn stop(&self) -> Result<(), CttError> {
            self.sim.close();
            Ok(())
        }
    }
}

crate::export! {
    impl Simulator {
        /// Acts as `tenant`'s admin (`contoso`, `fabrikam`, ...) on an action item URL; returns
        /// the callback, posted to the redirect URL when that is on a loopback host.
        pub async fn approve(&self, url: String, tenant: String) -> Result<SimCallback, CttError> {
            Ok(self.sim.approve(&url, &tenant).await.map_err(sim_error)?.into())
        }
    }
}
