//! `Simulator`: the embedded ConnecttoTeams simulator (crate `ctt-sim`) for tests and demos.
//!
//! The simulator runs on a thread and runtime of its own on 127.0.0.1, so starting, approving and
//! closing never wait on the JavaScript event loop; the calls that wait (start, approve, close)
//! return Promises all the same.

use crate::client::{ClientOptions, Credentials};
use crate::error::{guard, guard_sync, invalid_input, to_napi};
use crate::models::time_to_ms;
use ctt_onboard as core;
use ctt_sim as sim;
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

/// Which faults the simulator injects into API requests, how often, reproducibly by seed.
#[napi(object, object_to_js = false)]
pub struct FaultOptions {
    /// Fraction of API requests faulted, 0 to 1. Default 0 (off).
    pub rate: Option<f64>,
    /// Seed of the fault sequence. Default 1.
    pub seed: Option<u32>,
    /// The kinds to draw from: `latency`, `429`, `500`, `502`, `503`, `drop-before`,
    /// `drop-after`, `truncate`. Default: all.
    pub kinds: Option<Vec<String>>,
    /// The delay of a `latency` fault, in milliseconds. Default 200.
    pub latency_ms: Option<u32>,
    /// The `Retry-After` seconds of 429 and 503 faults. Default 1.
    pub retry_after_secs: Option<u32>,
    /// Only requests whose path starts with one of these are faulted. Default: every path.
    pub paths: Option<Vec<String>>,
}

impl FaultOptions {
    fn into_sim(self) -> napi::Result<sim::FaultConfig> {
        let mut c = sim::FaultConfig::default();
        if let Some(rate) = self.rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(invalid_input(format!(
                    "faults.rate is {rate}; it must be between 0 and 1"
                )));
            }
            c.rate = rate;
        }
        if let Some(seed) = self.seed {
            c.seed = seed.into();
        }
        if let Some(kinds) = self.kinds {
            c.kinds = kinds
                .iter()
                .map(|k| {
                    sim::FaultKind::parse(k).ok_or_else(|| {
                        let known: Vec<&str> =
                            sim::FaultKind::ALL.iter().map(|k| k.name()).collect();
                        invalid_input(format!(
                            "faults.kinds has {k:?} (known: {})",
                            known.join(", ")
                        ))
                    })
                })
                .collect::<napi::Result<_>>()?;
        }
        if let Some(ms) = self.latency_ms {
            c.latency_ms = ms.into();
        }
        if let Some(s) = self.retry_after_secs {
            c.retry_after_secs = s.into();
        }
        if let Some(paths) = self.paths {
            c.paths = paths;
        }
        Ok(c)
    }
}

/// A canned answer for every API request whose path starts with a prefix (for testing how a
/// portal copes with answers the real service should not give).
#[napi(object, object_to_js = false)]
pub struct CannedResponse {
    /// Requests whose path starts with this are answered with the canned response.
    pub path_prefix: String,
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` header. Default `application/json`.
    pub content_type: Option<String>,
    /// The body.
    pub body: String,
}

/// How to start a simulator.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct SimulatorOptions {
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: Option<u32>,
    /// Lifetime of the tokens it issues, in milliseconds. Default one hour.
    pub token_ttl_ms: Option<f64>,
    /// Injected faults. Default none.
    pub faults: Option<FaultOptions>,
    /// The credentials it accepts, replacing the defaults field by field (for canary tests).
    pub credentials: Option<SimulatorCredentialsOptions>,
}

/// Credentials for a simulator to accept instead of its defaults; every field is optional.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct SimulatorCredentialsOptions {
    /// OAuth client id.
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<String>,
    /// The reseller API user.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<String>,
    /// The enterprise-level API user.
    pub enterprise_username: Option<String>,
    /// Its password.
    pub enterprise_password: Option<String>,
}

/// The credentials a simulator accepts (test values, not secrets).
#[napi(object, object_from_js = false)]
pub struct SimulatorCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The reseller API user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The enterprise-level API user.
    pub enterprise_username: String,
    /// Its password.
    pub enterprise_password: String,
}

/// A simulated Microsoft tenant and the admin who signs in for it.
#[napi(object, object_from_js = false)]
pub struct SimulatorTenant {
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

/// The callback ConnecttoTeams would post to the portal: where, and the JSON body.
#[napi(object, object_from_js = false)]
pub struct SimulatorCallback {
    /// The redirect URL exactly as given to `getActionItemUrl` (the portal's URL with the flow's tags).
    pub url: String,
    /// The body, parsed.
    #[napi(ts_type = "CallbackPayload")]
    pub body: serde_json::Value,
    /// The body as the JSON text that would be posted.
    pub body_text: String,
}

/// A running simulator. Close it with `await simulator.close()`.
#[napi]
pub struct Simulator {
    inner: Arc<RwLock<Option<sim::Simulator>>>,
    base_url: String,
    reseller_id: i64,
    credentials: sim::SimCredentials,
}

fn closed() -> napi::Error {
    to_napi(core::Error::flow_state("the simulator is closed"))
}

fn sim_error(e: sim::SimError) -> napi::Error {
    to_napi(
        core::Error::invalid_input(format!("the simulator refused: {}", e.message))
            .with_status(e.status),
    )
}

impl Simulator {
    fn with<T>(&self, f: impl FnOnce(&sim::Simulator) -> T) -> napi::Result<T> {
        let lock = self.inner.try_read().map_err(|_| closed())?;
        lock.as_ref().map(f).ok_or_else(closed)
    }
}

#[napi]
impl Simulator {
    /// Starts a simulator on 127.0.0.1 and resolves once it listens.
    #[napi(factory)]
    pub async fn start(options: Option<SimulatorOptions>) -> napi::Result<Simulator> {
        guard(async move {
            crate::logging::init();
            let options = options.unwrap_or_default();
            let mut config = sim::SimConfig::default();
            if let Some(port) = options.port {
                config.port = u16::try_from(port)
                    .map_err(|_| invalid_input(format!("port {port} is not a TCP port")))?;
            }
            if let Some(ms) = options.token_ttl_ms {
                if !ms.is_finite() || ms <= 0.0 {
                    return Err(invalid_input(format!(
                        "tokenTtlMs is {ms}; it must be positive"
                    )));
                }
                config.token_ttl = Duration::from_secs_f64(ms / 1000.0);
            }
            if let Some(f) = options.faults {
                config.faults = f.into_sim()?;
            }
            if let Some(c) = options.credentials {
                let d = &mut config.credentials;
                let fields = [
                    (&mut d.client_id, c.client_id),
                    (&mut d.client_secret, c.client_secret),
                    (&mut d.username, c.username),
                    (&mut d.password, c.password),
                    (&mut d.enterprise_username, c.enterprise_username),
                    (&mut d.enterprise_password, c.enterprise_password),
                ];
                for (field, value) in fields {
                    if let Some(v) = value {
                        *field = v;
                    }
                }
            }
            let started = tokio::task::spawn_blocking(move || sim::Simulator::start(config))
                .await
                .map_err(|e| napi::Error::from_reason(format!("the simulator did not start: {e}")))?
                .map_err(|e| {
                    to_napi(core::Error::new(
                        core::ErrorCode::Network,
                        format!("the simulator could not listen: {e}"),
                    ))
                })?;
            Ok(Simulator {
                base_url: started.base_url().to_owned(),
                reseller_id: started.reseller_id(),
                credentials: started.credentials().clone(),
                inner: Arc::new(RwLock::new(Some(started))),
            })
        })
        .await
    }

    /// `http://127.0.0.1:<port>`.
    #[napi(catch_unwind, getter)]
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The reseller id of its one reseller.
    #[napi(catch_unwind, getter)]
    pub fn reseller_id(&self) -> f64 {
        self.reseller_id as f64
    }

    /// The credentials it accepts.
    #[napi(catch_unwind, getter)]
    pub fn credentials(&self) -> SimulatorCredentials {
        let c = &self.credentials;
        SimulatorCredentials {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            username: c.username.clone(),
            password: c.password.clone(),
            enterprise_username: c.enterprise_username.clone(),
            enterprise_password: c.enterprise_password.clone(),
        }
    }

    /// Client options that point at this simulator with its reseller and enterprise credentials;
    /// spread your own settings over them: `new Client({ ...sim.clientOptions(), callbackKey })`.
    #[napi(catch_unwind)]
    pub fn client_options(&self) -> ClientOptions {
        let c = &self.credentials;
        ClientOptions {
            base_url: Some(self.base_url.clone()),
            reseller: Some(Credentials {
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.clone(),
                username: c.username.clone(),
                password: c.password.clone(),
            }),
            enterprise: Some(Credentials {
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.clone(),
                username: c.enterprise_username.clone(),
                password: c.enterprise_password.clone(),
            }),
            ..ClientOptions::default()
        }
    }

    /// The simulated tenants, one for each branch of the flow.
    #[napi(catch_unwind, getter)]
    pub fn tenants(&self) -> Vec<SimulatorTenant> {
        sim::TENANTS
            .iter()
            .map(|t| SimulatorTenant {
                key: t.key.to_string(),
                tenant_id: t.tenant_id.to_string(),
                admin: t.admin.to_string(),
                global_admin: t.global_admin,
                has_admin_api: t.has_admin_api,
                roles_missing: t.roles_missing,
                description: t.description.to_string(),
            })
            .collect()
    }

    /// Acts as `tenant`'s admin (`contoso`, `fabrikam`, `northwind`, `tailspin`) on an action item
    /// URL the API returned: signs in, accepts, and resolves to the callback. When the redirect
    /// URL is on a loopback host, the callback is also posted there.
    #[napi]
    pub async fn approve(&self, url: String, tenant: String) -> napi::Result<SimulatorCallback> {
        guard(async move {
            let inner = self.inner.clone();
            let lock = inner.read().await;
            let simulator = lock.as_ref().ok_or_else(closed)?;
            let callback = simulator.approve(&url, &tenant).await.map_err(sim_error)?;
            Ok(SimulatorCallback {
                url: callback.url,
                body_text: callback.body.to_string(),
                body: callback.body,
            })
        })
        .await
    }

    /// Moves the simulator's clock forward by `ms` milliseconds (tokens and MSAL results expire,
    /// the 30-minute wait passes).
    #[napi(catch_unwind)]
    pub fn advance_clock(&self, ms: f64) -> napi::Result<()> {
        guard_sync(move || {
            if !ms.is_finite() || ms < 0.0 {
                return Err(invalid_input(format!(
                    "advanceClock takes a non-negative number of milliseconds, got {ms}"
                )));
            }
            self.with(|s| s.advance_clock(Duration::from_secs_f64(ms / 1000.0)))
        })
    }

    /// The simulator's time in milliseconds since the Unix epoch.
    #[napi(catch_unwind)]
    pub fn now(&self) -> napi::Result<f64> {
        guard_sync(move || self.with(|s| time_to_ms(s.now())))
    }

    /// Replaces the fault configuration (and restarts its sequence from the seed).
    #[napi(catch_unwind)]
    pub fn set_faults(&self, faults: FaultOptions) -> napi::Result<()> {
        guard_sync(move || {
            let config = faults.into_sim()?;
            self.with(|s| s.set_faults(config))
        })
    }

    /// Answers every API request under `canned.pathPrefix` with `canned` until `clearCanned()`.
    #[napi(catch_unwind)]
    pub fn set_canned(&self, canned: CannedResponse) -> napi::Result<()> {
        guard_sync(move || {
            let canned = sim::CannedResponse {
                path_prefix: canned.path_prefix,
                status: canned.status,
                content_type: canned
                    .content_type
                    .unwrap_or_else(|| "application/json".to_owned()),
                body: canned.body,
            };
            self.with(|s| s.set_canned(canned))
        })
    }

    /// Removes every canned answer.
    #[napi(catch_unwind)]
    pub fn clear_canned(&self) -> napi::Result<()> {
        guard_sync(move || self.with(|s| s.clear_canned()))
    }

    /// Changes the lifetime of tokens issued from now on, in milliseconds.
    #[napi(catch_unwind)]
    pub fn set_token_ttl(&self, ms: f64) -> napi::Result<()> {
        guard_sync(move || {
            if !ms.is_finite() || ms <= 0.0 {
                return Err(invalid_input(format!(
                    "token TTL is {ms}; it must be positive"
                )));
            }
            self.with(|s| s.set_token_ttl(Duration::from_secs_f64(ms / 1000.0)))
        })
    }

    /// Token requests that succeeded at `level` (`reseller` or `enterprise`).
    #[napi(catch_unwind, ts_args_type = "level: 'reseller' | 'enterprise'")]
    pub fn token_requests(&self, level: String) -> napi::Result<f64> {
        guard_sync(move || self.with(|s| s.token_requests(&level) as f64))
    }

    /// Everything it holds as JSON: enterprises, consents, every request answered, token counts.
    #[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
    pub fn snapshot(&self) -> napi::Result<serde_json::Value> {
        guard_sync(move || self.with(|s| s.snapshot()))
    }

    /// Stops the server; later calls fail. Closing twice is harmless.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        guard(async move {
            let inner = self.inner.clone();
            let taken = inner.write().await.take();
            if let Some(simulator) = taken {
                tokio::task::spawn_blocking(move || simulator.close())
                    .await
                    .map_err(|e| {
                        napi::Error::from_reason(format!("closing the simulator failed: {e}"))
                    })?;
            }
            Ok(())
        })
        .await
    }
}
