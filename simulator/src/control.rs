//! The one control surface every language binding drives the simulator through.
//!
//! Python, Node and Kotlin each start a simulator for their tests and examples, and each used to
//! declare its own copies of the options, the fault and canned-response settings and the records
//! it reads back, and its own "closed" rule. [`SimHandle`] is that surface written once: options
//! and records are this crate's own serde types (and uniffi records behind the `uniffi` feature),
//! every method answers a [`SimError`] with an [`error code`](SimError::code) a binding maps onto
//! its error type, and a closed handle refuses every call the same way in every language.

use crate::state::{Callback, ConsentRecord, RequestRecord, SimCredentials, SimEnterprise};
use crate::{CannedResponse, FaultConfig, SimConfig, SimError, Simulator, TENANTS, Tenant};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

/// How to start a simulator through [`SimHandle::start`]. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub port: u16,
    /// Lifetime of the tokens it issues, in milliseconds. Default one hour.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub token_ttl_ms: Option<u64>,
    /// Injected faults. Default none.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub faults: Option<FaultConfig>,
    /// The credentials it accepts; fields left out keep their defaults.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub credentials: Option<SimCredentials>,
}

/// A simulated Microsoft tenant, as the bindings list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimTenant {
    /// The short name used to pick it: `contoso`, `fabrikam`, `northwind`, `tailspin`.
    pub key: String,
    /// The Microsoft tenant id.
    pub tenant_id: String,
    /// The admin's sign-in name.
    pub admin: String,
    /// True when the admin is a Global Admin.
    pub global_admin: bool,
    /// True when the tenant has the Teams Tenant Admin API before anything is provisioned.
    pub has_admin_api: bool,
    /// True when the Teams/Skype Administrator roles are missing until provisioned plus 30 minutes.
    pub roles_missing: bool,
    /// What the consent page says about it.
    pub description: String,
}

impl From<&Tenant> for SimTenant {
    fn from(t: &Tenant) -> Self {
        Self {
            key: t.key.to_string(),
            tenant_id: t.tenant_id.to_string(),
            admin: t.admin.to_string(),
            global_admin: t.global_admin,
            has_admin_api: t.has_admin_api,
            roles_missing: t.roles_missing,
            description: t.description.to_owned(),
        }
    }
}

/// The simulator's tenants, one for each branch of the onboarding.
pub fn sim_tenants() -> Vec<SimTenant> {
    TENANTS.iter().map(SimTenant::from).collect()
}

impl SimError {
    /// The error a closed handle answers with.
    pub fn closed() -> Self {
        SimError {
            status: 410,
            message: "the simulator is closed".into(),
        }
    }

    /// The ctt-onboard error code this error maps to in every binding: `invalid_input` for a
    /// refused argument (400), `flow_state` for a closed simulator (410), `not_found` for an
    /// unknown action item URL (404), `api` otherwise.
    pub fn code(&self) -> &'static str {
        match self.status {
            400 | 422 => "invalid_input",
            410 => "flow_state",
            404 => "not_found",
            _ => "api",
        }
    }
}

fn invalid(what: &str, e: impl std::fmt::Display) -> SimError {
    SimError {
        status: 400,
        message: format!("{what}: {e}"),
    }
}

fn check_rate(faults: &FaultConfig) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&faults.rate) {
        Ok(())
    } else {
        Err(invalid(
            "faults.rate",
            format!("{} is not between 0 and 1", faults.rate),
        ))
    }
}

/// A running simulator shared by a binding's host objects; clones are the same simulator.
/// [`close`](SimHandle::close) stops it once no call on it is in flight; every call after that
/// is refused with [`SimError::closed`].
#[derive(Debug, Clone)]
pub struct SimHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sim: Mutex<Option<Arc<Simulator>>>,
    base_url: String,
    credentials: SimCredentials,
}

impl SimHandle {
    /// Starts a simulator on 127.0.0.1 (in a thread of its own) and returns once it listens.
    pub fn start(options: SimOptions) -> Result<SimHandle, SimError> {
        if let Some(faults) = &options.faults {
            check_rate(faults)?;
        }
        let config = SimConfig {
            port: options.port,
            token_ttl: options
                .token_ttl_ms
                .map_or(Duration::from_secs(3600), Duration::from_millis),
            faults: options.faults.unwrap_or_default(),
            credentials: options.credentials.unwrap_or_default(),
        };
        let sim = Simulator::start(config).map_err(|e| SimError {
            status: 500,
            message: format!("the simulator did not start: {e}"),
        })?;
        Ok(SimHandle {
            inner: Arc::new(Inner {
                base_url: sim.base_url().to_owned(),
                credentials: sim.credentials().clone(),
                sim: Mutex::new(Some(Arc::new(sim))),
            }),
        })
    }

    /// The running simulator; the lock is held only to clone the handle, so a slow call never
    /// blocks another.
    fn get(&self) -> Result<Arc<Simulator>, SimError> {
        self.inner
            .sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(SimError::closed)
    }

    fn with<T>(&self, f: impl FnOnce(&Simulator) -> T) -> Result<T, SimError> {
        Ok(f(&*self.get()?))
    }

    /// `http://127.0.0.1:<port>` (still answered after close, for messages).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> SimCredentials {
        self.inner.credentials.clone()
    }

    /// The reseller id of its one reseller.
    pub fn reseller_id(&self) -> Result<i64, SimError> {
        self.with(|s| s.reseller_id())
    }

    /// The simulator's current time, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> Result<u64, SimError> {
        self.with(|s| {
            s.now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        })
    }

    /// Moves the simulator's clock forward by `ms` (tokens and MSAL results expire, the 30-minute
    /// wait passes).
    pub fn advance_clock_ms(&self, ms: u64) -> Result<(), SimError> {
        self.with(|s| s.advance_clock(Duration::from_millis(ms)))
    }

    /// Replaces the fault configuration (and restarts its sequence from the seed).
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SimError> {
        check_rate(&faults)?;
        self.with(|s| s.set_faults(faults))
    }

    /// Replaces the fault configuration from the CLI form (`rate=0.2,seed=7,kinds=429+500`;
    /// empty turns faults off).
    pub fn set_faults_spec(&self, spec: &str) -> Result<(), SimError> {
        let faults = FaultConfig::parse(spec).map_err(|e| invalid("faults", e))?;
        self.with(|s| s.set_faults(faults))
    }

    /// Answers every API request under `canned.path_prefix` with `canned` until
    /// [`clear_canned`](Self::clear_canned).
    pub fn set_canned(&self, canned: CannedResponse) -> Result<(), SimError> {
        if !(100..=999).contains(&canned.status) {
            return Err(invalid(
                "canned.status",
                format!("{} is not an HTTP status (100 to 999)", canned.status),
            ));
        }
        self.with(|s| s.set_canned(canned))
    }

    /// Removes every canned response.
    pub fn clear_canned(&self) -> Result<(), SimError> {
        self.with(|s| s.clear_canned())
    }

    /// Changes the lifetime of tokens issued from now on.
    pub fn set_token_ttl_ms(&self, ms: u64) -> Result<(), SimError> {
        self.with(|s| s.set_token_ttl(Duration::from_millis(ms)))
    }

    /// Changes the lifetime of the MSAL results the consent screen issues from now on.
    pub fn set_msal_ttl_ms(&self, ms: u64) -> Result<(), SimError> {
        self.with(|s| s.set_msal_ttl(Duration::from_millis(ms)))
    }

    /// Acts as `tenant`'s admin on an action item URL: signs in, accepts, and returns the
    /// callback, which it also posts to the redirect URL when that is on loopback.
    pub async fn approve(&self, url: &str, tenant: &str) -> Result<Callback, SimError> {
        let sim = self.get()?;
        sim.approve(url, tenant).await
    }

    /// Like [`approve`](Self::approve), but never posts the callback anywhere.
    pub fn approve_without_posting(&self, url: &str, tenant: &str) -> Result<Callback, SimError> {
        self.with(|s| s.approve_without_posting(url, tenant))?
    }

    /// The redirect URL a pending action item URL will post its callback to, without approving
    /// it; `None` when the URL is not pending.
    pub fn redirect_url_of(&self, url: &str) -> Result<Option<String>, SimError> {
        self.with(|s| s.redirect_url_of(url))
    }

    /// Every API request answered so far, in order.
    pub fn requests(&self) -> Result<Vec<RequestRecord>, SimError> {
        self.with(|s| s.requests())
    }

    /// Token requests that succeeded at `level` (`reseller` or `enterprise`).
    pub fn token_requests(&self, level: &str) -> Result<u64, SimError> {
        if level != "reseller" && level != "enterprise" {
            return Err(invalid(
                "level",
                format!("{level:?} is neither \"reseller\" nor \"enterprise\""),
            ));
        }
        self.with(|s| s.token_requests(level))
    }

    /// The enterprises it holds.
    pub fn enterprises(&self) -> Result<Vec<SimEnterprise>, SimError> {
        self.with(|s| s.enterprises())
    }

    /// The consents granted so far.
    pub fn consents(&self) -> Result<Vec<ConsentRecord>, SimError> {
        self.with(|s| s.consents())
    }

    /// Everything it holds (enterprises, consents, requests, token counts) as JSON.
    pub fn snapshot(&self) -> Result<serde_json::Value, SimError> {
        self.with(|s| s.snapshot())
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner
            .sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Stops the server once no call on it is in flight (blocking until its thread ends when
    /// none is). Closing twice is harmless.
    pub fn close(&self) {
        let sim = self
            .inner
            .sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(sim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_partial_json_and_refuse_unknown_fields() {
        let options: SimOptions = serde_json::from_value(serde_json::json!({
            "tokenTtlMs": 5000,
            "credentials": {"password": "p"},
            "faults": {"rate": 0.5, "seed": 9}
        }))
        .expect("partial options parse");
        let credentials = options.credentials.clone().expect("credentials");
        assert_eq!(credentials.password, "p");
        assert_eq!(
            credentials.username,
            SimCredentials::default().username,
            "an omitted credential keeps its default"
        );
        assert_eq!(options.faults.as_ref().map(|f| f.seed), Some(9));
        let err = serde_json::from_value::<SimOptions>(serde_json::json!({"tokenTTL": 1}))
            .expect_err("an unknown option is refused");
        assert!(err.to_string().contains("tokenTTL"), "{err}");
        let err =
            serde_json::from_value::<SimOptions>(serde_json::json!({"credentials": {"user": "x"}}))
                .expect_err("an unknown credential is refused");
        assert!(err.to_string().contains("user"), "{err}");
    }

    #[test]
    fn a_closed_handle_refuses_every_call_with_one_error() {
        let sim = SimHandle::start(SimOptions::default()).expect("start");
        let twin = sim.clone();
        assert_eq!(sim.reseller_id().expect("reseller id"), 54);
        sim.advance_clock_ms(1000).expect("clock");
        sim.close();
        sim.close();
        assert!(twin.is_closed(), "clones share the one simulator");
        for err in [
            twin.reseller_id().map(drop).expect_err("closed"),
            twin.now_ms().map(drop).expect_err("closed"),
            twin.requests().map(drop).expect_err("closed"),
            twin.snapshot().map(drop).expect_err("closed"),
        ] {
            assert_eq!(err, SimError::closed());
            assert_eq!(err.code(), "flow_state");
        }
    }

    #[test]
    fn bad_arguments_are_invalid_input_and_change_nothing() {
        let sim = SimHandle::start(SimOptions::default()).expect("start");
        let err = sim.token_requests("admin").expect_err("bad level");
        assert_eq!(err.code(), "invalid_input");
        assert!(err.message.contains("admin"), "{err}");
        let err = sim.set_faults_spec("rate=2").expect_err("bad rate");
        assert_eq!(err.code(), "invalid_input");
        let err = sim
            .set_faults(FaultConfig {
                rate: -1.0,
                ..FaultConfig::default()
            })
            .expect_err("bad rate");
        assert!(err.message.contains("faults.rate"), "{err}");
        assert!(
            SimHandle::start(SimOptions {
                faults: Some(FaultConfig {
                    rate: 1.5,
                    ..FaultConfig::default()
                }),
                ..SimOptions::default()
            })
            .is_err()
        );
        let err = sim
            .set_canned(CannedResponse {
                path_prefix: "/".into(),
                status: 42,
                content_type: "text/plain".into(),
                body: String::new(),
            })
            .expect_err("not a status");
        assert!(err.message.contains("canned.status"), "{err}");
        assert_eq!(sim.requests().expect("requests").len(), 0);
        sim.close();
    }

    #[test]
    fn credentials_print_without_their_secrets() {
        let c = SimCredentials::default();
        let printed = format!("{c:?}");
        for secret in [&c.client_secret, &c.password, &c.enterprise_password] {
            assert!(!printed.contains(secret.as_str()), "{printed}");
        }
        assert!(printed.contains(&c.username), "{printed}");
    }

    #[test]
    fn tenants_cover_every_branch() {
        let tenants = sim_tenants();
        assert_eq!(tenants.len(), TENANTS.len());
        assert!(tenants.iter().any(|t| !t.global_admin));
        assert!(tenants.iter().any(|t| t.roles_missing));
        assert!(tenants.iter().any(|t| !t.has_admin_api));
    }
}
