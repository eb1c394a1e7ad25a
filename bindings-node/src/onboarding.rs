//! `Onboarding`: core's resumable flow ([`ctt_onboard::Onboarding`]) for JavaScript, plus
//! `verifyCallback` and `claimedFlowId`.
//!
//! The flow is held in an `Arc<tokio::sync::Mutex<..>>` and locked inside the future, so an
//! `advance` works on the one shared state: every step that finished is written there before the
//! next starts, and a cancelled advance (an `AbortSignal`, see `cancelAdvance`) keeps them all.
//! The synchronous readers (`status`, `toJSON`, `progress`, ...) never wait: while an advance
//! is running they throw `flow_state` instead of blocking the event loop.
//!
//! `advance(client, checkpoint)` implements core's [`ctt_onboard::Checkpoint`] over a napi
//! threadsafe function ([`JsCheckpoint`]): each save is queued to the JavaScript thread with a
//! snapshot of the flow (a separate `Onboarding`, readable while the advance holds the real one),
//! and the tokio task awaits the Promise the JavaScript checkpoint returns.

use crate::client::Client;
use crate::error::{IntoNapi, guard_sync, to_napi};
use crate::keys::CallbackKeys;
use crate::models::{
    NewEnterprise, action_from_js, id_from_js, id_to_js, integral_numbers, to_plain,
};
use crate::promise;
use chrono::{DateTime, Utc};
use ctt_onboard as core;
use futures::future::BoxFuture;
use napi::bindgen_prelude::{FnArgs, Function, Promise, PromiseRaw};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Status};
use napi_derive::napi;
use std::sync::Arc;
use tokio::sync::{Mutex, watch};

/// What to onboard and how.
#[napi(object)]
pub struct OnboardingPlan {
    /// The enterprise to create. `sbcGateways` and `pbxId` may be left out to have them chosen in
    /// Part I: gateways by `gatewayRegions`, the PBX type marked default. With
    /// `existingEnterpriseId`, only the name and services are used.
    pub enterprise: NewEnterprise,
    /// Region names (`sbcGatewayRegion`) to choose gateways by, when `enterprise.sbcGateways` is empty.
    pub gateway_regions: Option<Vec<String>>,
    /// The id of an enterprise that already exists: the flow starts at Part II.
    pub existing_enterprise_id: Option<f64>,
    /// The portal's callback URL (https, or http on a loopback host). Each URL the flow asks for
    /// gets this plus the flow's tagged query parameters.
    pub redirect_url: String,
    /// Optional consents to ask for.
    #[napi(
        ts_type = "Array<'GET_CONTACTS_CONSENT' | 'GET_CDR_CONSENT' | 'GET_CALL_RECORDING_CONSENT'>"
    )]
    pub optional_consents: Option<Vec<String>>,
    /// Ask for "Allow Management by Service Provider" and record it (recommended). Default true.
    pub service_provider_management: Option<bool>,
}

impl OnboardingPlan {
    fn into_core(self) -> napi::Result<core::OnboardingPlan> {
        let mut plan = core::OnboardingPlan::new(self.enterprise.into_core()?, self.redirect_url);
        plan.gateway_regions = self.gateway_regions.unwrap_or_default();
        plan.existing_enterprise_id = self
            .existing_enterprise_id
            .map(|id| id_from_js("existingEnterpriseId", id))
            .transpose()?;
        plan.optional_consents = self
            .optional_consents
            .unwrap_or_default()
            .iter()
            .map(|a| action_from_js(a))
            .collect();
        if let Some(yes) = self.service_provider_management {
            plan.service_provider_management = yes;
        }
        Ok(plan)
    }

    fn from_core(plan: &core::OnboardingPlan) -> napi::Result<Self> {
        Ok(Self {
            enterprise: NewEnterprise::from_core(&plan.enterprise)?,
            gateway_regions: Some(plan.gateway_regions.clone()),
            existing_enterprise_id: plan
                .existing_enterprise_id
                .map(|id| id_to_js("existingEnterpriseId", id))
                .transpose()?,
            redirect_url: plan.redirect_url.clone(),
            optional_consents: Some(
                plan.optional_consents
                    .iter()
                    .map(|a| a.as_str().to_owned())
                    .collect(),
            ),
            service_provider_management: Some(plan.service_provider_management),
        })
    }
}

/// Where `advance` stopped; branch on `kind`.
#[napi(
    discriminant = "kind",
    discriminant_case = "camelCase",
    object_from_js = false
)]
pub enum Progress {
    /// Show `url` to the enterprise's Global Admin; the flow continues after the callback.
    AwaitingAdmin {
        /// What the admin is asked to do, such as `REGISTRATION`.
        action: String,
        /// The action item URL.
        url: String,
    },
    /// Nothing can happen before `notBefore` (the vendor's 30 minutes after enabling roles).
    WaitingUntil {
        /// The earliest time to call `advance` again.
        not_before: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Every step is done.
    Complete {
        /// The enterprise's id.
        enterprise_id: f64,
        /// The Microsoft tenant it is registered to.
        tenant_id: String,
    },
}

fn date(t: std::time::SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

impl Progress {
    fn from_core(p: core::Progress) -> napi::Result<Self> {
        Ok(match p {
            core::Progress::AwaitingAdmin { action, url } => Progress::AwaitingAdmin {
                action: action.as_str().to_owned(),
                url,
            },
            core::Progress::WaitingUntil { not_before, reason } => Progress::WaitingUntil {
                not_before: date(not_before),
                reason,
            },
            core::Progress::Complete {
                enterprise_id,
                tenant_id,
            } => Progress::Complete {
                enterprise_id: id_to_js("enterpriseId", enterprise_id)?,
                tenant_id,
            },
        })
    }
}

/// One line of `status()`: a step of Parts I to III and how far it got.
#[napi(object, object_from_js = false)]
pub struct StepStatus {
    /// The step's stable name, such as `create_enterprise`.
    pub step: String,
    /// A title for people, as a portal's checklist shows it.
    pub title: String,
    /// Its state.
    #[napi(ts_type = "'pending' | 'done' | 'skipped' | 'waiting' | 'failed'")]
    pub state: String,
    /// The result that matters (an id, a URL), why it was skipped, or what failed.
    pub detail: Option<String>,
    /// When the state last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// The error code of the last failure, for `failed`.
    pub error_code: Option<String>,
}

/// A callback that passed verification: which flow and action it answers, and its payload.
#[napi(object, object_from_js = false)]
pub struct VerifiedCallback {
    /// The flow's id (`Onboarding.id`): load that flow and call `handleCallback` on it.
    pub flow_id: String,
    /// The action the callback answers, such as `REGISTRATION`.
    pub action: String,
    /// The ask's nonce (fresh for every URL the flow asks for); a flow accepts it only while it
    /// is the ask it waits for.
    pub nonce: String,
    /// When the URL was issued.
    pub issued_at: DateTime<Utc>,
    /// A digest of the body's JSON value (not its bytes): bodies that differ only in whitespace
    /// or key order have the same digest.
    pub payload_digest: String,
    /// The parsed body (it holds the admin's MSAL result: data your portal must hold like a token).
    #[napi(ts_type = "CallbackPayload")]
    pub payload: serde_json::Value,
}

/// A body or flow JSON given as text, or as the parsed object.
fn body_text(body: serde_json::Value) -> String {
    match body {
        serde_json::Value::String(s) => s,
        mut other => {
            integral_numbers(&mut other);
            other.to_string()
        }
    }
}

/// Checks a callback's tag with `keys` without any flow at hand: returns the flow id, the action,
/// the ask's nonce and issue time, and the payload, or throws `callback_invalid`. `url` is the
/// absolute URL the callback was posted to; `body` the posted JSON, as text or parsed. Whether
/// the ask is the one a flow waits for is `handleCallback`'s to judge. (The JavaScript layer also
/// takes a key, the ring's options, or a `Client` here.)
#[napi(
    catch_unwind,
    ts_args_type = "keys: string | Buffer | Uint8Array | CallbackKeys | CallbackKeysOptions | Client, url: string, body: string | CallbackPayload"
)]
pub fn verify_callback(
    keys: &CallbackKeys,
    url: String,
    body: serde_json::Value,
) -> napi::Result<VerifiedCallback> {
    guard_sync(move || {
        let body = body_text(body);
        let verified = core::verify_callback(&keys.inner, &url, &body).napi()?;
        Ok(VerifiedCallback {
            flow_id: verified.flow_id,
            action: verified.action.as_str().to_owned(),
            nonce: verified.nonce,
            issued_at: date(verified.issued_at),
            payload_digest: verified.payload_digest,
            payload: to_plain("callback payload", &verified.payload)?,
        })
    })
}

/// The flow id a callback URL claims, unverified (`null` when it names none): which stored flow
/// to load before `handleCallback` verifies the callback. `url` may be absolute or the path and
/// query a router saw.
#[napi(catch_unwind)]
pub fn claimed_flow_id(url: String) -> Option<String> {
    core::claimed_flow_id(&url)
}

/// The wrapped checkpoint as `advance` receives it from the JavaScript layer: its Promise
/// resolves to `null` when the portal's checkpoint succeeded, or to `[code, message]` when it threw
/// or rejected (a `CttError`'s own code, else `flow_state`).
type CheckpointArg<'f> = Function<'f, FnArgs<(Onboarding, f64)>, Promise<Option<Vec<String>>>>;

type CheckpointFn = ThreadsafeFunction<
    (core::Onboarding, u64),
    Promise<Option<Vec<String>>>,
    FnArgs<(Onboarding, f64)>,
    Status,
    false,
>;

/// Core's [`core::Checkpoint`] over the JavaScript checkpoint: each save calls it on the
/// JavaScript thread with a snapshot of the flow and the previous revision, and awaits the
/// Promise it returns (the JavaScript layer wraps the portal's function so that it always returns
/// one, resolving to `null` or to `[code, message]`).
struct JsCheckpoint {
    tsfn: Arc<CheckpointFn>,
}

impl core::Checkpoint for JsCheckpoint {
    fn save(
        &mut self,
        flow: &core::Onboarding,
        previous_revision: u64,
    ) -> BoxFuture<'static, core::Result<()>> {
        let tsfn = self.tsfn.clone();
        let snapshot = flow.clone();
        Box::pin(async move {
            let failed = |e: napi::Error| {
                core::Error::flow_state(format!("the checkpoint failed: {}", e.reason))
            };
            let promise = tsfn
                .call_async_catch((snapshot, previous_revision))
                .await
                .map_err(failed)?;
            match promise.await.map_err(failed)?.as_deref() {
                None => Ok(()),
                Some([code, message]) => Err(core::Error::new(
                    core::ErrorCode::parse(code).unwrap_or(core::ErrorCode::FlowState),
                    message.clone(),
                )),
                Some(other) => Err(core::Error::flow_state(format!(
                    "the checkpoint failed: {}",
                    other.join(": ")
                ))),
            }
        })
    }
}

/// One enterprise's onboarding: a resumable state machine. Persist it with `toJSON()` (or
/// `JSON.stringify(flow)`) after every `advance` and `handleCallback`, and load it with
/// `Onboarding.fromJSON`. Its JSON holds the Global Admin's latest MSAL result: store it as you
/// would store a token.
#[napi]
pub struct Onboarding {
    inner: Arc<Mutex<core::Onboarding>>,
    id: String,
    cancel: watch::Sender<u64>,
}

fn busy() -> napi::Error {
    to_napi(core::Error::flow_state(
        "an advance of this flow is in progress: await it before reading or changing the flow",
    ))
}

impl Onboarding {
    fn wrap(flow: core::Onboarding) -> Self {
        Self {
            id: flow.id().to_owned(),
            inner: Arc::new(Mutex::new(flow)),
            cancel: watch::Sender::new(0),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&core::Onboarding) -> napi::Result<T>) -> napi::Result<T> {
        let lock = self.inner.try_lock().map_err(|_| busy())?;
        f(&lock)
    }
}

#[napi]
impl Onboarding {
    /// A new flow for `plan`; `invalid_input` names what is wrong with the plan.
    #[napi(catch_unwind, constructor)]
    pub fn new(plan: OnboardingPlan) -> napi::Result<Self> {
        guard_sync(move || Ok(Self::wrap(core::Onboarding::new(plan.into_core()?).napi()?)))
    }

    /// Loads a flow saved with `toJSON()` (the object, or its JSON text). A newer schema than
    /// this version knows is `invalid_input`.
    #[napi(factory, js_name = "fromJSON", ts_args_type = "json: string | object")]
    pub fn from_json(json: serde_json::Value) -> napi::Result<Self> {
        guard_sync(move || {
            let text = body_text(json);
            Ok(Self::wrap(core::Onboarding::from_json(&text).napi()?))
        })
    }

    /// The flow's id (a UUID); callbacks name it.
    #[napi(catch_unwind, getter)]
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// The plan it follows.
    #[napi(catch_unwind, getter)]
    pub fn plan(&self) -> napi::Result<OnboardingPlan> {
        guard_sync(move || self.read(|f| OnboardingPlan::from_core(f.plan())))
    }

    /// The flow's revision: 0 when new, rising with every change (a step, an accepted callback);
    /// at most 2^53-1, so the number is exact. Save with compare-and-swap on it (`UPDATE flows
    /// SET json = ?, revision = ? WHERE id = ? AND revision = ?`).
    #[napi(catch_unwind, getter)]
    pub fn revision(&self) -> napi::Result<f64> {
        guard_sync(move || self.read(|f| Ok(f.revision() as f64)))
    }

    /// True while a callback was accepted and `advance` has yet to confirm it with
    /// ConnecttoTeams.
    #[napi(catch_unwind, getter)]
    pub fn has_unconfirmed_callback(&self) -> napi::Result<bool> {
        guard_sync(move || self.read(|f| Ok(f.has_unconfirmed_callback())))
    }

    /// The enterprise's id, once created (or given).
    #[napi(catch_unwind, getter)]
    pub fn enterprise_id(&self) -> napi::Result<Option<f64>> {
        guard_sync(move || {
            self.read(|f| {
                f.enterprise_id()
                    .map(|id| id_to_js("enterpriseId", id))
                    .transpose()
            })
        })
    }

    /// The Microsoft tenant id, once registered.
    #[napi(catch_unwind, getter)]
    pub fn tenant_id(&self) -> napi::Result<Option<String>> {
        guard_sync(move || self.read(|f| Ok(f.tenant_id().map(str::to_owned))))
    }

    /// True when every step is done or skipped.
    #[napi(catch_unwind, getter)]
    pub fn is_complete(&self) -> napi::Result<bool> {
        guard_sync(move || self.read(|f| Ok(f.is_complete())))
    }

    /// What the last `advance` returned, from the state (no call is made); `null` before the first.
    #[napi(catch_unwind)]
    pub fn progress(&self) -> napi::Result<Option<Progress>> {
        guard_sync(move || self.read(|f| f.progress().map(Progress::from_core).transpose()))
    }

    /// Every step of Parts I to III, in the seed's order, with its state.
    #[napi(catch_unwind)]
    pub fn status(&self) -> napi::Result<Vec<StepStatus>> {
        guard_sync(move || {
            self.read(|f| {
                Ok(f.status()
                    .into_iter()
                    .map(|s| StepStatus {
                        step: s.step.name().to_owned(),
                        title: s.step.title().to_owned(),
                        state: s.state.as_str().to_owned(),
                        detail: s.detail,
                        updated_at: s.updated_at.map(date),
                        error_code: s.error_code.map(|c| c.as_str().to_owned()),
                    })
                    .collect())
            })
        })
    }

    /// The flow as a schema-versioned JSON object (what `JSON.stringify(flow)` writes).
    #[napi(
        catch_unwind,
        js_name = "toJSON",
        ts_return_type = "Record<string, unknown>"
    )]
    pub fn to_json(&self) -> napi::Result<serde_json::Value> {
        guard_sync(move || self.read(|f| json_object(&f.to_json().napi()?)))
    }

    /// The flow as a JSON object with no MSAL token in it: a flow loaded from it asks the Global
    /// Admin to sign in again (`LOGIN_ENTERPRISE_ADMIN`) when a step needs the admin's sign-in.
    /// A callback not yet confirmed by `advance` is not kept (its tokens would be): advance
    /// right after `handleCallback` before saving this way, or the ask is made again.
    #[napi(
        catch_unwind,
        js_name = "toJSONWithoutTokens",
        ts_return_type = "Record<string, unknown>"
    )]
    pub fn to_json_without_tokens(&self) -> napi::Result<serde_json::Value> {
        guard_sync(move || self.read(|f| json_object(&f.to_json_without_tokens().napi()?)))
    }

    /// `toJSONWithoutTokens()` as JSON text, exactly as the core writes it (lossless for any id).
    #[napi(catch_unwind, js_name = "toJSONStringWithoutTokens")]
    pub fn to_json_string_without_tokens(&self) -> napi::Result<String> {
        guard_sync(move || self.read(|f| f.to_json_without_tokens().napi()))
    }

    /// The flow as schema-versioned JSON text, exactly as the core writes it (lossless for any
    /// id). `Onboarding.fromJSON` reads it back.
    #[napi(catch_unwind, js_name = "toJSONString")]
    pub fn to_json_string(&self) -> napi::Result<String> {
        guard_sync(move || self.read(|f| f.to_json().napi()))
    }

    /// Performs every API step it can and resolves where the flow needs a person or time. Each
    /// step's result is written into the flow before the next starts; calling it again repeats
    /// nothing that succeeded. A callback accepted by `handleCallback` is confirmed with
    /// ConnecttoTeams first. The client needs a `callbackKey` (or `callbackKeys`).
    ///
    /// With `options.checkpoint`, `checkpoint(flow, previousRevision)` is called after every step
    /// that changed the flow and before the create, and awaited when it returns a Promise. `flow`
    /// is a snapshot (a separate `Onboarding`); save it only if the stored row is still at
    /// `previousRevision` (compare-and-swap), and throw otherwise. A throw or rejection stops the
    /// advance with a `CttError`: the thrown `CttError`'s code, else `flow_state`, its message
    /// naming the thrown message and `cause` the thrown value; before the create nothing is sent.
    ///
    /// With `options.signal`, aborting drops the step in flight, keeps every step that finished,
    /// and rejects with the signal's reason (an `AbortError`).
    #[napi(
        catch_unwind,
        ts_args_type = "client: Client, options?: { signal?: AbortSignal; checkpoint?: (flow: Onboarding, previousRevision: number) => void | Promise<void> }",
        ts_return_type = "Promise<Progress>"
    )]
    pub fn advance<'env>(
        &self,
        env: &'env Env,
        client: &Client,
        checkpoint: Option<CheckpointArg<'_>>,
    ) -> napi::Result<PromiseRaw<'env, Progress>> {
        let mut checkpoint = match checkpoint {
            None => None,
            Some(f) => Some(JsCheckpoint {
                tsfn: Arc::new(
                    f.build_threadsafe_function::<(core::Onboarding, u64)>()
                        .callee_handled::<false>()
                        .build_callback(|ctx| {
                            let (flow, previous) = ctx.value;
                            Ok(FnArgs::from((Onboarding::wrap(flow), previous as f64)))
                        })?,
                ),
            }),
        };
        let flow = self.inner.clone();
        let client = client.inner.clone();
        let mut cancelled = self.cancel.subscribe();
        cancelled.borrow_and_update();
        promise::spawn(env, async move {
            let run = async {
                let mut flow = flow.lock().await;
                match checkpoint.as_mut() {
                    Some(c) => flow.advance_with_checkpoint(&client, c).await,
                    None => flow.advance(&client).await,
                }
            };
            let result = tokio::select! {
                result = run => Progress::from_core(result.napi()?),
                _ = cancelled.changed() => Err(to_napi(core::Error::flow_state(
                    "the advance was cancelled; every step that finished is kept",
                ))),
            };
            // The threadsafe function is released here, on the tokio thread, once the advance
            // is over: it keeps the event loop alive only while a save may still be called.
            drop(checkpoint);
            result
        })
    }

    /// Cancels the advance in flight, if any (what an aborted `signal` does); that advance rejects
    /// with `flow_state`, keeping every step that finished.
    #[napi(catch_unwind)]
    pub fn cancel_advance(&self) {
        self.cancel.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Feeds the callback the portal received (its URL, absolute or the path and query its router
    /// saw, and its body, as text or parsed) to the flow, after verifying it with `keys`: a key
    /// (string or bytes), a `CallbackKeys` ring or its options, or a `Client` (its ring and its
    /// clock). Offline: it is accepted only when it answers the ask this flow waits for now, not
    /// older than the ring's max age, signed by a Global Admin, for the bound tenant, with an
    /// access token never accepted before; `advance` then confirms it with ConnecttoTeams.
    /// Resolves to `'accepted'`, or `'duplicate'` when the same ask came again with the same
    /// parsed body (whitespace and key order aside), which changes nothing. Every rejection is
    /// `callback_invalid` and leaves the flow unchanged (an earlier ask, a different body for an
    /// answered ask, a wrong or retired key, another flow, a signer who is not a Global Admin,
    /// another tenant).
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
        body: serde_json::Value,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let keys = keys.inner.clone();
        let flow = self.inner.clone();
        promise::spawn(env, async move {
            let body = body_text(body);
            let mut flow = flow.lock().await;
            Ok(flow
                .handle_callback(&keys, &url, &body)
                .napi()?
                .as_str()
                .to_owned())
        })
    }
}

/// The flow's JSON text as an object, refusing an id a JavaScript number cannot hold exactly.
fn json_object(text: &str) -> napi::Result<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        to_napi(core::Error::decode(format!(
            "the flow JSON could not be read back: {e}"
        )))
    })?;
    if holds_unsafe_integer(&value) {
        return Err(to_napi(core::Error::decode(
            "the flow holds an id beyond Number.MAX_SAFE_INTEGER, which a JavaScript object cannot hold exactly: persist it with toJSONString()",
        )));
    }
    Ok(value)
}

/// True when `value` holds an integer JavaScript numbers cannot represent exactly.
fn holds_unsafe_integer(value: &serde_json::Value) -> bool {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    match value {
        serde_json::Value::Number(n) => {
            n.as_u64().is_some_and(|v| v > MAX_SAFE)
                || n.as_i64().is_some_and(|v| v.unsigned_abs() > MAX_SAFE)
        }
        serde_json::Value::Array(items) => items.iter().any(holds_unsafe_integer),
        serde_json::Value::Object(map) => map.values().any(holds_unsafe_integer),
        _ => false,
    }
}
