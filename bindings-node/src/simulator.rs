//! `Simulator`: the embedded ConnecttoTeams simulator ([`ctt_sim::SimHandle`]: its options,
//! records and "closed" rule); the calls that wait (start, approve, close) return Promises.

use crate::client::duration_ms;
use crate::convert::{camel, from_js_renamed, rename_keys, snake, to_js};
use crate::error::{IntoNapi, invalid_input, to_napi};
use ctt_onboard::{Error, ErrorCode};
use ctt_sim::{self as sim, SimHandle};
use napi_derive::napi;
use serde_json::{Value, json};

impl<T> IntoNapi<T> for Result<T, sim::SimError> {
    /// A simulator's refusal as a `CttError`, with the code ctt-sim assigns it.
    fn napi(self) -> napi::Result<T> {
        self.map_err(|e| {
            let code = ErrorCode::parse(e.code()).unwrap_or(ErrorCode::Api);
            let message = format!("the simulator refused: {}", e.message);
            to_napi(Error::new(code, message).with_status(e.status))
        })
    }
}

/// ctt-sim's snake_case settings from JavaScript's camelCase (its own names pass unchanged), and
/// fault kinds by their CLI names (`429`, `drop-before`) as well as by their serde ones.
fn settings(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let kind = |k: Value| match k.as_str().and_then(sim::FaultKind::parse) {
        Some(known) => json!(known),
        None => k,
    };
    let renamed = map
        .into_iter()
        .map(|(key, value)| match (key.as_str(), value) {
            ("kinds", Value::Array(kinds)) => (key, kinds.into_iter().map(kind).collect()),
            (_, v) => (snake(&key), v),
        });
    Value::Object(renamed.collect())
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
        let options = options.unwrap_or_else(|| json!({}));
        let options: sim::SimOptions = from_js_renamed("SimulatorOptions", options, |mut o| {
            for key in ["faults", "credentials"] {
                if let Some(v) = o.get_mut(key) {
                    *v = settings(v.take());
                }
            }
            o
        })
        .napi()?;
        let started = tokio::task::spawn_blocking(move || SimHandle::start(options)).await;
        let started = started.map_err(|e| invalid_input(format!("did not start: {e}")))?;
        Ok(Simulator {
            inner: started.napi()?,
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
        Ok(self.inner.reseller_id().napi()? as f64)
    }

    /// The credentials it accepts (test values, not secrets).
    #[napi(catch_unwind, getter, ts_return_type = "Required<SimCredentials>")]
    pub fn credentials(&self) -> napi::Result<Value> {
        Ok(rename_keys(
            to_js("credentials", &self.inner.credentials()).napi()?,
            camel,
        ))
    }

    /// The simulated tenants, one for each branch of the flow.
    #[napi(catch_unwind, getter, ts_return_type = "SimTenant[]")]
    pub fn tenants(&self) -> napi::Result<Value> {
        to_js("tenants", &sim::sim_tenants()).napi()
    }

    /// Acts as `tenant`'s admin (`contoso`, `fabrikam`, `northwind`, `tailspin`) on an action item
    /// URL: signs in, accepts, and resolves to the callback (also posted to a loopback redirect).
    #[napi(ts_return_type = "Promise<{ url: string; body: CallbackPayload; bodyText: string }>")]
    pub async fn approve(&self, url: String, tenant: String) -> napi::Result<Value> {
        let callback = self.inner.approve(&url, &tenant).await.napi()?;
        let text = callback.body.to_string();
        Ok(json!({ "url": callback.url, "body": callback.body, "bodyText": text }))
    }

    /// Moves the simulator's clock forward by `ms` milliseconds (tokens expire, waits pass).
    #[napi(catch_unwind)]
    pub fn advance_clock(&self, ms: f64) -> napi::Result<()> {
        let d = duration_ms("advanceClock", ms)?;
        self.inner.advance_clock_ms(d.as_millis() as u64).napi()
    }

    /// The simulator's time in milliseconds since the Unix epoch.
    #[napi(catch_unwind)]
    pub fn now(&self) -> napi::Result<f64> {
        Ok(self.inner.now_ms().napi()? as f64)
    }

    /// Replaces the fault configuration (and restarts its sequence from the seed).
    #[napi(catch_unwind, ts_args_type = "faults: FaultConfig")]
    pub fn set_faults(&self, faults: Value) -> napi::Result<()> {
        self.inner
            .set_faults(from_js_renamed("faults", faults, settings).napi()?)
            .napi()
    }

    /// Answers every API request under `canned.pathPrefix` with `canned` until `clearCanned()`.
    #[napi(catch_unwind, ts_args_type = "canned: CannedResponse")]
    pub fn set_canned(&self, canned: Value) -> napi::Result<()> {
        let canned = from_js_renamed("canned", canned, |c| {
            let mut canned = settings(c);
            if let Some(map) = canned.as_object_mut() {
                map.entry("content_type")
                    .or_insert(json!("application/json"));
            }
            canned
        });
        self.inner.set_canned(canned.napi()?).napi()
    }

    /// Removes every canned answer.
    #[napi(catch_unwind)]
    pub fn clear_canned(&self) -> napi::Result<()> {
        self.inner.clear_canned().napi()
    }

    /// Changes the lifetime of tokens issued from now on, in milliseconds.
    #[napi(catch_unwind)]
    pub fn set_token_ttl(&self, ttl: f64) -> napi::Result<()> {
        match duration_ms("token TTL", ttl)?.as_millis() {
            0 => Err(invalid_input(format!(
                "token TTL is {ttl}; it must be positive"
            ))),
            ms => self.inner.set_token_ttl_ms(ms as u64).napi(),
        }
    }

    /// Token requests that succeeded at `level` (`reseller` or `enterprise`).
    #[napi(catch_unwind, ts_args_type = "level: 'reseller' | 'enterprise'")]
    pub fn token_requests(&self, level: String) -> napi::Result<f64> {
        Ok(self.inner.token_requests(&level).napi()? as f64)
    }

    /// Everything it holds as JSON: enterprises, consents, every request answered, token counts.
    #[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
    pub fn snapshot(&self) -> napi::Result<Value> {
        self.inner.snapshot().napi()
    }

    /// Stops the server; later calls fail. Closing twice is harmless.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        let inner = self.inner.clone();
        let closed = tokio::task::spawn_blocking(move || inner.close()).await;
        closed.map_err(|e| invalid_input(format!("closing the simulator failed: {e}")))
    }
}
