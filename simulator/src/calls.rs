//! Every [`SimHandle`] control call as data, so that each binding's simulator forwards one call
//! instead of declaring (and converting) each control method again.
//!
//! [`SimCall`] names a call and carries its arguments; [`SimHandle::call`] performs it and hands
//! back the result as a serde value. Like `ctt_onboard::client::ClientCall`, its JSON Schema
//! (feature `schema`) carries each call's documentation and, under `x-returns`, its result type,
//! for the generator. Times are whole milliseconds; a host that speaks seconds converts in its
//! own layer.

use crate::control::{SimHandle, sim_tenants};
use crate::{CannedResponse, FaultConfig, SimError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One control call of the simulator, by name (`"call"`), with its arguments as fields.
/// [`SimHandle::call`] performs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum SimCall {
    /// The credentials it accepts (test values, not secrets).
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "SimCredentials")))]
    Credentials,
    /// The reseller id of its one reseller.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "int")))]
    ResellerId,
    /// The simulated tenants, one for each branch of the onboarding.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "SimTenant[]")))]
    Tenants,
    /// The simulator's clock, in milliseconds since the Unix epoch.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "int")))]
    NowMs,
    /// Moves the simulator's clock forward (tokens and MSAL results expire, the vendor's
    /// 30-minute wait passes).
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    AdvanceClock {
        /// How far, in milliseconds.
        ms: u64,
    },
    /// Replaces the fault configuration (and restarts its sequence from the seed).
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    SetFaults {
        /// The faults to inject from now on.
        faults: FaultConfig,
    },
    /// Replaces the fault configuration from its command-line form
    /// (`rate=0.2,seed=7,kinds=429+500`; empty turns faults off).
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    SetFaultsSpec {
        /// The command-line form.
        spec: String,
    },
    /// Answers every API request under `canned.path_prefix` with `canned` until `clearCanned`.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    SetCanned {
        /// The answer to give.
        canned: CannedResponse,
    },
    /// Removes every canned answer.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    ClearCanned,
    /// Changes the lifetime of the tokens it issues from now on.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    SetTokenTtl {
        /// The lifetime in milliseconds (more than 0).
        ms: u64,
    },
    /// Changes the lifetime of the MSAL results the consent screen issues from now on.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    SetMsalTtl {
        /// The lifetime in milliseconds (more than 0).
        ms: u64,
    },
    /// Acts as `tenant`'s admin on an action item URL: signs in, accepts, and answers the
    /// callback, which it also posts to the redirect URL when `post` and that URL is on loopback.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "ApprovedCallback")))]
    Approve {
        /// The action item URL, as `actionItemUrl` returned it.
        url: String,
        /// The tenant whose admin acts: `contoso`, `fabrikam`, `northwind` or `tailspin`.
        tenant: String,
        /// Whether to post the callback to a loopback redirect URL (default true).
        #[serde(default = "yes")]
        #[cfg_attr(feature = "schema", schemars(default = "yes"))]
        post: bool,
    },
    /// The redirect URL a pending action item URL will post its callback to, without approving
    /// it; nothing when the URL is not pending.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "string?")))]
    RedirectUrlOf {
        /// The action item URL.
        url: String,
    },
    /// Every API request answered so far, in order.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "RequestRecord[]")))]
    Requests,
    /// Token requests that succeeded at `level`.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "int")))]
    TokenRequests {
        /// `reseller` or `enterprise`.
        level: String,
    },
    /// The enterprises it holds.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "SimEnterprise[]")))]
    Enterprises,
    /// The consents granted so far.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "ConsentRecord[]")))]
    Consents,
    /// Everything it holds (enterprises, consents, every request answered, token counts).
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "any")))]
    Snapshot,
}

fn yes() -> bool {
    true
}

/// The callback an [`SimCall::Approve`] produced: where it goes, its body, and the body's exact
/// text (what a portal's redirect URL receives).
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApprovedCallback {
    /// The redirect URL exactly as given to `getActionItemUrl`.
    pub url: String,
    /// The callback body.
    pub body: Value,
    /// The callback body as the text posted.
    pub body_text: String,
}

impl std::fmt::Debug for ApprovedCallback {
    /// The body holds the admin's MSAL tokens: printed as its size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = self.body_text.len();
        write!(f, "ApprovedCallback(url={}, body=<{size} bytes>)", self.url)
    }
}

impl SimCall {
    /// A call read from its serde value (a host's dict or object); a bad one is refused (400,
    /// `invalid_input`) naming the call and the field at fault.
    pub fn from_value(value: Value) -> Result<Self, SimError> {
        let name = value.get("call").and_then(Value::as_str);
        let name = name.unwrap_or("(no \"call\")").to_owned();
        serde_json::from_value(value).map_err(|e| SimError {
            status: 400,
            message: format!("simulator call {name}: {e}"),
        })
    }
}

impl SimHandle {
    /// Performs `call` and returns its result as a serde value (`null` for nothing).
    pub async fn call(&self, call: SimCall) -> Result<Value, SimError> {
        match call {
            SimCall::Credentials => out(self.credentials()),
            SimCall::ResellerId => out(self.reseller_id()?),
            SimCall::Tenants => out(sim_tenants()),
            SimCall::NowMs => out(self.now_ms()?),
            SimCall::AdvanceClock { ms } => out(self.advance_clock_ms(ms)?),
            SimCall::SetFaults { faults } => out(self.set_faults(faults)?),
            SimCall::SetFaultsSpec { spec } => out(self.set_faults_spec(&spec)?),
            SimCall::SetCanned { canned } => out(self.set_canned(canned)?),
            SimCall::ClearCanned => out(self.clear_canned()?),
            SimCall::SetTokenTtl { ms } => out(self.set_token_ttl_ms(positive("ms", ms)?)?),
            SimCall::SetMsalTtl { ms } => out(self.set_msal_ttl_ms(positive("ms", ms)?)?),
            SimCall::Approve { url, tenant, post } => {
                let callback = if post {
                    self.approve(&url, &tenant).await?
                } else {
                    self.approve_without_posting(&url, &tenant)?
                };
                out(ApprovedCallback {
                    body_text: callback.body.to_string(),
                    url: callback.url,
                    body: callback.body,
                })
            }
            SimCall::RedirectUrlOf { url } => out(self.redirect_url_of(&url)?),
            SimCall::Requests => out(self.requests()?),
            SimCall::TokenRequests { level } => out(self.token_requests(&level)?),
            SimCall::Enterprises => out(self.enterprises()?),
            SimCall::Consents => out(self.consents()?),
            SimCall::Snapshot => self.snapshot(),
        }
    }
}

fn positive(what: &str, ms: u64) -> Result<u64, SimError> {
    if ms > 0 {
        Ok(ms)
    } else {
        Err(SimError {
            status: 400,
            message: format!("{what} is 0; a lifetime must be positive"),
        })
    }
}

fn out<T: Serialize>(value: T) -> Result<Value, SimError> {
    serde_json::to_value(value).map_err(|e| SimError {
        status: 500,
        message: format!("a result could not be serialized: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::SimOptions;
    use serde_json::json;

    fn call(sim: &SimHandle, value: Value) -> Result<Value, SimError> {
        let call = SimCall::from_value(value)?;
        futures::executor::block_on(sim.call(call))
    }

    #[test]
    fn calls_answer_what_the_methods_do() {
        let sim = SimHandle::start(SimOptions::default()).expect("start");
        assert_eq!(call(&sim, json!({"call": "resellerId"})), Ok(json!(54)));
        let now = call(&sim, json!({"call": "nowMs"})).expect("now");
        let later = json!({"call": "advanceClock", "ms": 60_000});
        assert_eq!(call(&sim, later), Ok(Value::Null));
        let moved = call(&sim, json!({"call": "nowMs"})).expect("now");
        let moved_by = moved.as_u64().zip(now.as_u64()).map(|(b, a)| b - a);
        assert!(moved_by.is_some_and(|d| d >= 60_000), "{now} -> {moved}");
        let tenants = call(&sim, json!({"call": "tenants"})).expect("tenants");
        assert_eq!(tenants.as_array().map(Vec::len), Some(crate::TENANTS.len()));
        let spec = json!({"call": "setFaultsSpec", "spec": "rate=0.5,seed=3"});
        assert_eq!(call(&sim, spec), Ok(Value::Null));
        let user = call(&sim, json!({"call": "credentials"})).expect("credentials");
        assert_eq!(user["username"], json!(sim.credentials().username));
        assert_eq!(call(&sim, json!({"call": "requests"})), Ok(json!([])));
        let level = json!({"call": "tokenRequests", "level": "reseller"});
        assert_eq!(call(&sim, level), Ok(json!(0)));
        let redirect = json!({"call": "redirectUrlOf", "url": "https://nowhere.example/x"});
        assert_eq!(call(&sim, redirect), Ok(Value::Null));
        sim.close();
        let closed = call(&sim, json!({"call": "resellerId"})).expect_err("closed");
        assert_eq!(closed.code(), "flow_state");
    }

    #[test]
    fn a_bad_call_is_refused_naming_the_call_and_changes_nothing() {
        let sim = SimHandle::start(SimOptions::default()).expect("start");
        let bad = call(&sim, json!({"call": "advanceClock", "ms": -5})).expect_err("negative");
        assert_eq!(bad.code(), "invalid_input");
        assert!(bad.message.contains("advanceClock"), "{bad:?}");
        let unknown = call(&sim, json!({"call": "explode"})).expect_err("unknown call");
        assert!(unknown.message.contains("explode"), "{unknown:?}");
        let zero = call(&sim, json!({"call": "setTokenTtl", "ms": 0})).expect_err("zero TTL");
        assert_eq!(zero.code(), "invalid_input");
        let level = json!({"call": "tokenRequests", "level": "admin"});
        assert_eq!(
            call(&sim, level).map_err(|e| e.code()),
            Err("invalid_input")
        );
        sim.close();
    }

    #[test]
    fn approving_an_unknown_request_is_refused() {
        let sim = SimHandle::start(SimOptions::default()).expect("start");
        let bad = json!({"call": "approve", "url": "https://x.example/?state=nope", "tenant": "contoso", "post": false});
        let refused = call(&sim, bad).expect_err("no such request");
        assert_eq!(refused.code(), "invalid_input");
        assert!(refused.message.contains("state"), "{refused:?}");
        sim.close();
    }
}
