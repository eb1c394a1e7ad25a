//! `Onboarding`: core's shared flow ([`FlowHandle`]: its policy decides what a read, a callback
//! or a second advance does while an `advance` runs), plus `verifyCallback` and `claimedFlowId`.

use crate::client::Client;
use crate::convert::{camel, from_js_renamed, rename_keys, snake, to_js};
use crate::error::{IntoNapi, to_napi};
use crate::keys::CallbackKeys;
use crate::promise;
use ctt_onboard::{self as core, FlowHandle, OnboardingPlan};
use futures::future::BoxFuture;
use napi::bindgen_prelude::{FnArgs, Function, Promise, PromiseRaw};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Status};
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;

/// Checks a callback's tag with `keys` (a key, a ring or its options, or a `Client`) without any
/// flow at hand, or throws `callback_invalid`.
#[napi(
    catch_unwind,
    ts_args_type = "keys: string | Buffer | Uint8Array | CallbackKeys | CallbackKeysOptions | Client, url: string, body: string | CallbackPayload",
    ts_return_type = "VerifiedCallback"
)]
pub fn verify_callback(keys: &CallbackKeys, url: String, body: String) -> napi::Result<Value> {
    let verified = core::verify_callback(&keys.inner, &url, &body).napi()?;
    to_js("callback", &verified).napi()
}

/// The flow id a callback URL (absolute, or the path and query a router saw) claims, unverified:
/// which stored flow to load before `handleCallback`; `null` when it names none.
#[napi(catch_unwind)]
pub fn claimed_flow_id(url: String) -> Option<String> {
    core::claimed_flow_id(&url)
}

/// The checkpoint as the JavaScript layer wraps it: its Promise resolves to `null` when the
/// portal's checkpoint succeeded, or to `[code, message]` when it threw or rejected.
type CheckpointArg<'f> = Function<'f, FnArgs<(Onboarding, f64)>, Promise<Option<Vec<String>>>>;

type CheckpointFn = ThreadsafeFunction<
    (core::Onboarding, u64),
    Promise<Option<Vec<String>>>,
    FnArgs<(Onboarding, f64)>,
    Status,
    false,
>;

/// Core's [`core::Checkpoint`] over the JavaScript one: each save is queued to the JavaScript
/// thread with a snapshot of the flow, and its Promise awaited. Dropped with the advance.
struct JsCheckpoint(Arc<CheckpointFn>);

impl core::Checkpoint for JsCheckpoint {
    fn save(
        &mut self,
        flow: &core::Onboarding,
        previous: u64,
    ) -> BoxFuture<'static, core::Result<()>> {
        let (tsfn, snapshot) = (self.0.clone(), flow.clone());
        Box::pin(async move {
            let failed = |e: napi::Error| {
                core::Error::flow_state(format!("the checkpoint failed: {}", e.reason))
            };
            let saved = tsfn
                .call_async_catch((snapshot, previous))
                .await
                .map_err(failed)?;
            let Some(thrown) = saved.await.map_err(failed)? else {
                return Ok(());
            };
            let code = thrown.first().and_then(|c| core::ErrorCode::parse(c));
            let message = thrown.get(1).cloned().unwrap_or_default();
            Err(core::Error::new(
                code.unwrap_or(core::ErrorCode::FlowState),
                message,
            ))
        })
    }
}

/// One enterprise's onboarding, a resumable state machine: persist `toJSONString()` after every
/// `advance` and `handleCallback` (it holds the admin's MSAL result: store it like a token), load
/// it with `Onboarding.fromJSON`. Reads during an `advance` see its last finished step.
#[napi]
pub struct Onboarding {
    flow: FlowHandle,
}

#[napi]
impl Onboarding {
    /// A new flow for `plan`; `invalid_input` names what is wrong with the plan.
    #[napi(catch_unwind, constructor, ts_args_type = "plan: OnboardingPlan")]
    pub fn new(plan: Value) -> napi::Result<Self> {
        let plan: OnboardingPlan =
            from_js_renamed("OnboardingPlan", plan, |p| rename_keys(p, snake)).napi()?;
        Ok(Self {
            flow: FlowHandle::new(plan).napi()?,
        })
    }

    /// Loads a flow saved with `toJSONString()` or `toJSON()`; a newer schema is `invalid_input`.
    #[napi(
        catch_unwind,
        factory,
        js_name = "fromJSON",
        ts_args_type = "json: string | object"
    )]
    pub fn from_json(json: String) -> napi::Result<Self> {
        Ok(Self {
            flow: FlowHandle::from_json(&json).napi()?,
        })
    }

    /// The flow's id (a UUID); callbacks name it.
    #[napi(catch_unwind, getter)]
    pub fn id(&self) -> String {
        self.flow.read(|f| f.id().to_owned())
    }

    /// The plan it follows.
    #[napi(catch_unwind, getter, ts_return_type = "OnboardingPlan")]
    pub fn plan(&self) -> napi::Result<Value> {
        let plan = self.flow.read(|f| to_js("plan", f.plan())).napi()?;
        Ok(rename_keys(plan, camel))
    }

    /// The flow's revision: 0 when new, rising with every change (a step, an accepted callback);
    /// save with compare-and-swap on it.
    #[napi(catch_unwind, getter)]
    pub fn revision(&self) -> f64 {
        self.flow.read(|f| f.revision() as f64)
    }

    /// True while a callback was accepted and `advance` has yet to confirm it.
    #[napi(catch_unwind, getter)]
    pub fn has_unconfirmed_callback(&self) -> bool {
        self.flow.read(|f| f.has_unconfirmed_callback())
    }

    /// The enterprise's id, once created (or given).
    #[napi(catch_unwind, getter)]
    pub fn enterprise_id(&self) -> napi::Result<Option<f64>> {
        let id = self.flow.read(|f| f.enterprise_id());
        let id = id.map(|id| core::numbers::int_to_js("enterpriseId", id));
        id.transpose().napi()
    }

    /// The Microsoft tenant id, once registered.
    #[napi(catch_unwind, getter)]
    pub fn tenant_id(&self) -> Option<String> {
        self.flow.read(|f| f.tenant_id().map(str::to_owned))
    }

    /// True when every step is done or skipped.
    #[napi(catch_unwind, getter)]
    pub fn is_complete(&self) -> bool {
        self.flow.read(|f| f.is_complete())
    }

    /// What the last `advance` returned, from the state (no call is made); `null` before the first.
    #[napi(catch_unwind, ts_return_type = "Progress | null")]
    pub fn progress(&self) -> napi::Result<Value> {
        to_js("progress", &self.flow.read(|f| f.progress())).napi()
    }

    /// Every step of Parts I to III, in the seed's order, with its state.
    #[napi(catch_unwind, ts_return_type = "StepStatus[]")]
    pub fn status(&self) -> napi::Result<Value> {
        to_js("status", &self.flow.read(|f| f.status())).napi()
    }

    /// The flow as a schema-versioned JSON object (what `JSON.stringify(flow)` writes).
    #[napi(
        catch_unwind,
        js_name = "toJSON",
        ts_return_type = "Record<string, unknown>"
    )]
    pub fn to_json(&self) -> napi::Result<Value> {
        json_object(&self.to_json_string()?)
    }

    /// The flow as a JSON object with no MSAL token in it (nor a callback not yet confirmed).
    #[napi(
        catch_unwind,
        js_name = "toJSONWithoutTokens",
        ts_return_type = "Record<string, unknown>"
    )]
    pub fn to_json_without_tokens(&self) -> napi::Result<Value> {
        json_object(&self.to_json_string_without_tokens()?)
    }

    /// `toJSONWithoutTokens()` as JSON text, exactly as the core writes it (lossless for any id).
    #[napi(catch_unwind, js_name = "toJSONStringWithoutTokens")]
    pub fn to_json_string_without_tokens(&self) -> napi::Result<String> {
        self.flow.read(|f| f.to_json_without_tokens()).napi()
    }

    /// The flow as schema-versioned JSON text, exactly as the core writes it (lossless for any id).
    #[napi(catch_unwind, js_name = "toJSONString")]
    pub fn to_json_string(&self) -> napi::Result<String> {
        self.flow.read(|f| f.to_json()).napi()
    }

    /// Performs every API step it can and resolves where the flow needs a person or time; calling
    /// it again repeats nothing that succeeded. The client needs a callback key.
    /// `options.checkpoint` saves a snapshot after every step that changed the flow; aborting
    /// `options.signal` keeps every step that finished and rejects with the signal's reason.
    #[napi(
        catch_unwind,
        ts_args_type = "client: Client, options?: AdvanceOptions",
        ts_return_type = "Promise<Progress>"
    )]
    pub fn advance<'env>(
        &self,
        env: &'env Env,
        client: &Client,
        checkpoint: Option<CheckpointArg<'_>>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let checkpoint: Box<dyn core::Checkpoint> = match checkpoint {
            None => Box::new(core::NoCheckpoint),
            Some(f) => Box::new(JsCheckpoint(Arc::new(
                f.build_threadsafe_function::<(core::Onboarding, u64)>()
                    .callee_handled::<false>()
                    .build_callback(|ctx| {
                        let (flow, previous) = ctx.value;
                        let flow = Onboarding {
                            flow: FlowHandle::from_flow(flow),
                        };
                        Ok(FnArgs::from((flow, previous as f64)))
                    })?,
            ))),
        };
        // Marked advancing now, so a `cancelAdvance()` right after this call is never lost.
        let advance = self.flow.start_advance(client.inner.clone(), checkpoint);
        promise::spawn(env, async move { to_js("progress", &advance?.await?) })
    }

    /// Cancels the advance in flight (it rejects with `flow_state`, keeping every finished step);
    /// false when none runs.
    #[napi(catch_unwind)]
    pub fn cancel_advance(&self) -> bool {
        self.flow.cancel_advance()
    }

    /// Feeds the callback the portal received (its URL and body) to the flow after verifying it
    /// with `keys` (a key, a ring or its options, or a `Client`): `'accepted'`, or `'duplicate'`
    /// for the same ask and body; a rejection is `callback_invalid` and changes nothing.
    #[napi(
        catch_unwind,
        ts_args_type = "keys: string | Buffer | Uint8Array | CallbackKeys | CallbackKeysOptions | Client, url: string, body: string | CallbackPayload",
        ts_return_type = "Promise<'accepted' | 'duplicate'>"
    )]
    pub fn handle_callback<'env>(
        &self,
        env: &'env Env,
        keys: &CallbackKeys,
        url: String,
        body: String,
    ) -> napi::Result<PromiseRaw<'env, &'static str>> {
        let (keys, flow) = (keys.inner.clone(), self.flow.clone());
        promise::spawn(env, async move {
            Ok(flow.handle_callback(&keys, &url, &body)?.as_str())
        })
    }
}

/// The flow's JSON text as an object, refusing an id a JavaScript number cannot hold exactly.
fn json_object(text: &str) -> napi::Result<Value> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| to_napi(core::Error::decode(e.to_string())))?;
    core::numbers::check_ints_for_js("flow", &value).map_err(|e| {
        let why =
            "a JavaScript object cannot hold the flow exactly; persist it with toJSONString()";
        to_napi(core::Error::decode(format!("{}: {why}", e.message())))
    })?;
    Ok(value)
}
