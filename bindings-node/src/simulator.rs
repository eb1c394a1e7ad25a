//! `Simulator`: the embedded ConnecttoTeams simulator, wrapping [`ctt_sim::SimHandle`], the one
//! control surface every binding drives it through (its options, records and "closed" rule).
//!
//! The simulator runs on a thread and runtime of its own on 127.0.0.1, so starting, approving and
//! closing never wait on the JavaScript event loop; the calls that wait (start, approve, close)
//! return Promises all the same.

use crate::client::duration_ms;
use crate::convert::{camel, from_js, rename_keys, snake, time_to_ms, to_js};
use crate::error::{invalid_input, to_napi};
use ctt_onboard::{Error, ErrorCode};
use ctt_sim::{self as sim, SimHandle};
use napi_derive::napi;
use serde_json::{Value, json};
use std::time::{Duration, UNIX_EPOCH};

/// A simulator's refusal as a `CttError`, with the code ctt-sim assigns it.
fn sim_error(e: sim::SimError) -> napi::Error {
    let code = ErrorCode::parse(e.code()).unwrap_or(ErrorCode::Api);
    to_napi(Error::new(code, format!("the simulator refused: {}", e.message)).with_status(e.status))
}

/// ctt-sim's settings with JavaScript's camelCase names (its snake_case ones pass unchanged), and
/// fault kinds by their CLI names (`429`, `drop-before`) as well as their serde ones.
fn snake_keys(value: Value) -> napi::Result<Value> {
    let Value::Object(map) = value else {
        return Ok(value);
    };
    let renamed = map.into_iter().map(|(key, value)| {
        let value = match (key.as_str(), value) {
            ("kinds", Value::Array(kinds)) => kinds
                .into_iter()
                .map(fault_kind)
                .collect::<napi::Result<_>>()?,
            (_, v) => v,
        };
        Ok((snake(&key), value))
    });
    renamed.collect::<napi::Result<_>>().map(Value::Object)
}

fn fault_kind(kind: Value) -> napi::Result<Value> {
    let name = kind.as_str().unwrap_or_default();
    let known = sim::FaultKind::parse(name).ok_or_else(|| {
        let known: Vec<&str> = sim::FaultKind::ALL.iter().map(|k| k.name()).collect();
        invalid_input(format!(
            "faults.kinds has {kind} (known: {})",
            known.join(", ")
        ))
    })?;
    to_js("kind", &known)
}

/// A running simulator. Close it with `await simulator.close()`.
#[napi]
pub struct Simulator {
    inner: SimHandle,
}

#[napi]
impl Simulator {
    /// Starts a simulator on 127.0.0.1 and resolves once it listens.
    #[napi(factory, ts_args_type = "options?: SimOptions")]
    pub async fn start(options: Option<Value>) -> napi::Result<Simulator> {
        crate::logging::init();
        let mut options = options.unwrap_or_else(|| json!({}));
        for key in ["faults", "credentials"] {
            if let Some(v) = options.get_mut(key) {
                *v = snake_keys(v.take())?;
            }
        }
        let options: sim::SimOptions = from_js("SimulatorOptions", options)?;
        let started = tokio::task::spawn_blocking(move || SimHandle::start(options))
            .await
            .map_err(|e| napi::Error::from_reason(format!("the simulator did not start: {e}")))?;
        Ok(Simulator {
            inner: started.map_err(sim_error)?,
        })
    }

    /// `http://127.0.0.1:<port>`.
    #[napi(catch_unwind, getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The reseller id of its one reseller.
    #[napi(catch_unwind, getter)]
    pub fn reseller_id(&self) -> napi::Result<f64> {
        Ok(self.inner.reseller_id().map_err(sim_error)? as f64)
    }

    /// The credentials it accepts (test values, not secrets).
    #[napi(catch_unwind, getter, ts_return_type = "Required<SimCredentials>")]
    pub fn credentials(&self) -> napi::Result<Value> {
        Ok(rename_keys(
            to_js("credentials", &self.inner.credentials())?,
            camel,
        ))
    }

    /// Client options that point at this simulator with its reseller and enterprise credentials;
    /// spread your own settings over them: `new Client({ ...sim.clientOptions(), callbackKey })`.
    #[napi(catch_unwind, ts_return_type = "ClientOptions")]
    pub fn client_options(&self) -> Value {
        let c = self.inner.credentials();
        let user = |username: &str, password: &str| json!({ "clientId": c.client_id, "clientSecret": c.client_secret, "username": username, "password": password });
        json!({
            "baseUrl": self.inner.base_url(),
            "reseller": user(&c.username, &c.password),
            "enterprise": user(&c.enterprise_username, &c.enterprise_password),
        })
    }

    /// The simulated tenants, one for each branch of the flow.
    #[napi(catch_unwind, getter, ts_return_type = "SimTenant[]")]
    pub fn tenants(&self) -> napi::Result<Value> {
        to_js("tenants", &sim::sim_tenants())
    }

    /// Acts as `tenant`'s admin (`contoso`, `fabrikam`, `northwind`, `tailspin`) on an action item
    /// URL the API returned: signs in, accepts, and resolves to the callback: `{ url, body,
    /// bodyText }`. When the redirect URL is on a loopback host, the callback is also posted there.
    #[napi(ts_return_type = "Promise<{ url: string; body: CallbackPayload; bodyText: string }>")]
    pub async fn approve(&self, url: String, tenant: String) -> napi::Result<Value> {
        let callback = self.inner.approve(&url, &tenant).await.map_err(sim_error)?;
        let text = callback.body.to_string();
        Ok(json!({ "url": callback.url, "body": callback.body, "bodyText": text }))
    }

    /// Moves the simulator's clock forward by `ms` milliseconds (tokens and MSAL results expire,
    /// the 30-minute wait passes).
    #[napi(catch_unwind)]
    pub fn advance_clock(&self, ms: f64) -> napi::Result<()> {
        let d = duration_ms("advanceClock", ms)?;
        self.inner
            .advance_clock_ms(d.as_millis() as u64)
            .map_err(sim_error)
    }

    /// The simulator's time in milliseconds since the Unix epoch.
    #[napi(catch_unwind)]
    pub fn now(&self) -> napi::Result<f64> {
        let ms = self.inner.now_ms().map_err(sim_error)?;
        Ok(time_to_ms(UNIX_EPOCH + Duration::from_millis(ms)))
    }

    /// Replaces the fault configuration (and restarts its sequence from the seed).
    #[napi(catch_unwind, ts_args_type = "faults: FaultConfig")]
    pub fn set_faults(&self, faults: Value) -> napi::Result<()> {
        let faults = from_js("faults", snake_keys(faults)?)?;
        self.inner.set_faults(faults).map_err(sim_error)
    }

    /// Answers every API request under `canned.pathPrefix` with `canned` until `clearCanned()`;
    /// `contentType` defaults to `application/json`.
    #[napi(catch_unwind, ts_args_type = "canned: CannedResponse")]
    pub fn set_canned(&self, canned: Value) -> napi::Result<()> {
        let mut canned = snake_keys(canned)?;
        if let Some(map) = canned.as_object_mut() {
            map.entry("content_type")
                .or_insert_with(|| json!("application/json"));
        }
        self.inner
            .set_canned(from_js("canned", canned)?)
            .map_err(sim_error)
    }

    /// Removes every canned answer.
    #[napi(catch_unwind)]
    pub fn clear_canned(&self) -> napi::Result<()> {
        self.inner.clear_canned().map_err(sim_error)
    }

    /// Changes the lifetime of tokens issued from now on, in milliseconds.
    #[napi(catch_unwind)]
    pub fn set_token_ttl(&self, ms: f64) -> napi::Result<()> {
        if !ms.is_finite() || ms <= 0.0 {
            return Err(invalid_input(format!(
                "token TTL is {ms}; it must be positive"
            )));
        }
        self.inner.set_token_ttl_ms(ms as u64).map_err(sim_error)
    }

    /// Token requests that succeeded at `level` (`reseller` or `enterprise`).
    #[napi(catch_unwind, ts_args_type = "level: 'reseller' | 'enterprise'")]
    pub fn token_requests(&self, level: String) -> napi::Result<f64> {
        Ok(self.inner.token_requests(&level).map_err(sim_error)? as f64)
    }

    /// Everything it holds as JSON: enterprises, consents, every request answered, token counts.
    #[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
    pub fn snapshot(&self) -> napi::Result<Value> {
        self.inner.snapshot().map_err(sim_error)
    }

    /// Stops the server; later calls fail. Closing twice is harmless.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.close())
            .await
            .map_err(|e| napi::Error::from_reason(format!("closing the simulator failed: {e}")))
    }
}
