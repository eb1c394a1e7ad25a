//! `Client`: core's [`ctt_onboard::Client`] built from core's [`ClientOptions`] (the key ring and
//! the clock are handles passed beside it), whose calls cross as data (core's `ClientCall`); and
//! `ManualClock`.
//! The credentials stay in Rust: nothing on the JavaScript object can reveal them.

use crate::convert::{from_js, time_to_ms};
use crate::error::{IntoNapi, invalid_input};
use crate::keys::CallbackKeys;
use crate::promise;
use ctt_onboard::client::{ClientCall, ClientOptions};
use ctt_onboard::{self as core, numbers};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A clock for tests: the system time plus an offset that moves only when told to (move it with
/// `simulator.advanceClock` to cross the vendor's 30-minute wait).
#[napi]
#[derive(Default)]
pub struct ManualClock {
    pub(crate) inner: core::ManualClock,
}

#[napi]
impl ManualClock {
    /// A clock that starts at the system time.
    #[napi(catch_unwind, constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this clock (and every client using it) forward by `ms` milliseconds.
    #[napi(catch_unwind)]
    pub fn advance(&self, ms: f64) -> napi::Result<()> {
        self.inner.advance(duration_ms("advance", ms)?);
        Ok(())
    }

    /// The clock's time, in milliseconds since the Unix epoch (like `Date.now()`).
    #[napi(catch_unwind)]
    pub fn now(&self) -> f64 {
        time_to_ms(core::Clock::now(&self.inner))
    }
}

/// A non-negative number of milliseconds.
pub fn duration_ms(what: &str, ms: f64) -> napi::Result<Duration> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(invalid_input(format!(
            "{what} takes a non-negative number of milliseconds, got {ms}"
        )));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// A client for the ConnecttoTeams provisioning API. Build it once and share it: it holds one
/// connection pool and one token cache. Every API method returns a Promise.
#[napi]
pub struct Client {
    pub(crate) inner: core::Client,
}

#[napi]
impl Client {
    /// Checks the options and builds the client; `invalid_input` names a bad setting. `clock`
    /// is a test knob. (The JavaScript layer turns `callbackKey`/`callbackKeys` into `keys`.)
    #[napi(
        catch_unwind,
        constructor,
        ts_args_type = "options?: ClientOptions, clock?: ManualClock"
    )]
    pub fn new(
        options: Option<Value>,
        keys: Option<&CallbackKeys>,
        clock: Option<&ManualClock>,
    ) -> napi::Result<Self> {
        crate::logging::init();
        let options: ClientOptions =
            from_js("ClientOptions", options.unwrap_or(Value::Null)).napi()?;
        let mut builder = options.into_builder().napi()?;
        if let Some(keys) = keys {
            builder = builder.callback_keys(keys.inner.clone());
        }
        if let Some(clock) = clock {
            builder = builder.clock(Arc::new(clock.inner.clone()));
        }
        let inner = builder.build().napi()?;
        Ok(Self { inner })
    }

    /// The base URL the client calls.
    #[napi(catch_unwind, getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The client's callback key ring (with the client's clock), or `null` when it has none.
    #[napi(catch_unwind, getter)]
    pub fn callback_keys(&self) -> Option<CallbackKeys> {
        let ring = self.inner.callback_keys().cloned();
        ring.map(|inner| CallbackKeys { inner })
    }

    /// True when enterprise-level credentials or a token are configured.
    #[napi(catch_unwind, getter)]
    pub fn has_enterprise_auth(&self) -> bool {
        self.inner.has_enterprise_auth()
    }

    /// Performs one client call given as data (core's `ClientCall`, such as
    /// `{ call: 'sbcGateways', resellerId: 54 }`); resolves to its result. The client's methods
    /// (generated from core's schema into `lib/generated.cjs`) forward here. A call that cannot be
    /// read rejects with `invalid_input` naming the call (and the field, where serde can tell).
    /// The result crosses as JSON text, which the JavaScript layer parses: V8's `JSON.parse`
    /// builds a list of objects faster than napi sets their properties one by one.
    #[napi(
        catch_unwind,
        ts_args_type = "call: ClientCall",
        ts_return_type = "Promise<unknown>"
    )]
    pub fn call<'e>(&self, env: &'e Env, mut call: Value) -> napi::Result<PromiseRaw<'e, String>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            numbers::ints_from_js("call", &mut call)?;
            let call = ClientCall::from_value(call)?;
            let what = call.name();
            let value = client.call(call).await?;
            numbers::check_ints_for_js(what, &value)?;
            serde_json::to_string(&value).map_err(|e| core::Error::decode(format!("{what}: {e}")))
        })
    }
}
