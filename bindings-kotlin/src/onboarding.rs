//! The resumable flow (core's [`FlowHandle`]: its policy for reads, callbacks and cancelling while
//! an `advance` runs), the callback key ring, and the Kotlin checkpoint as core's `Checkpoint`.

use crate::client::{Client, ManualClock};
use crate::error::invalid_input;
use crate::models::CallbackPayload;
use crate::runtime::{guard, guard_async};
use ctt_onboard::{
    self as core, ActionType, CallbackOutcome, Checkpoint, CttError, FlowHandle, OnboardingPlan,
    Progress, StepStatus,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A callback that passed verification: which flow, action and ask it belongs to, and its payload
/// (core's `VerifiedCallback`, the payload as the object that masks its tokens).
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifiedCallback {
    /// The id of the flow that asked for the URL.
    pub flow_id: String,
    /// The action the URL was for.
    pub action: ActionType,
    /// The ask's nonce: the flow accepts the callback only while it waits for this ask.
    pub nonce: String,
    /// When the URL was issued.
    pub issued_at: SystemTime,
    /// The parsed body (its `toString()` masks the tokens).
    pub payload: Arc<CallbackPayload>,
}

/// The portal's callback key ring (core's `CallbackKeys`; keys are bytes, at least 16). Every
/// method returns a new ring: `CallbackKeys(newKey, "k2").verifyAlso(oldKey, "k1").retire("k0")`.
/// `toString()` shows the key ids, never the keys.
#[derive(uniffi::Object)]
#[uniffi::export(Display)]
pub struct CallbackKeys {
    pub(crate) inner: core::CallbackKeys,
}

impl CallbackKeys {
    pub(crate) fn wrap(inner: core::CallbackKeys) -> Arc<Self> {
        Arc::new(Self { inner })
    }
}

fn callback_key(key: Vec<u8>, id: Option<String>) -> Result<core::CallbackKey, CttError> {
    Ok(match id {
        Some(id) => core::CallbackKey::new(id, key)?,
        None => core::CallbackKey::derived(key)?,
    })
}

impl std::fmt::Display for CallbackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.inner)
    }
}

crate::export! {
    impl CallbackKeys {
        /// A ring signing with `signingKey`; `id` (1 to 32 of `A-Z a-z 0-9 - _ .`) is derived
        /// from the key when not given.
        #[uniffi::constructor(default(id = None))]
        pub fn new(signing_key: Vec<u8>, id: Option<String>) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(core::CallbackKeys::new(callback_key(signing_key, id)?)))
        }

        /// This ring plus an older key that still verifies (never signs); `id` as for the constructor.
        #[uniffi::method(default(id = None))]
        pub fn verify_also(&self, key: Vec<u8>, id: Option<String>) -> Result<Arc<Self>, CttError> {
            let ring = self.inner.clone().with_verify_key(callback_key(key, id)?)?;
            Ok(Self::wrap(ring))
        }

        /// This ring with the key id `id` retired: its URLs are refused as retired.
        pub fn retire(&self, id: String) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(self.inner.clone().with_retired(id)?))
        }

        /// This ring with URLs answering for `seconds` (at least 60; default 72 hours).
        pub fn max_age_seconds(&self, seconds: i64) -> Result<Arc<Self>, CttError> {
            let secs = u64::try_from(seconds).map_err(|_| {
                invalid_input(format!("callback max_age is {seconds} s; it must be at least 60 s"))
            })?;
            Ok(Self::wrap(self.inner.clone().with_max_age(Duration::from_secs(secs))?))
        }

        /// This ring judging URL ages by `clock` (a test knob; else the client's or the system's).
        pub fn clock(&self, clock: Arc<ManualClock>) -> Arc<Self> {
            let shared: core::SharedClock = Arc::new(clock.inner.clone());
            Self::wrap(self.inner.clone().with_clock(shared))
        }

        /// The id of the key that signs new URLs.
        pub fn signing_key_id(&self) -> String {
            self.inner.signing_key_id().to_owned()
        }

        /// How long a URL answers after it was issued.
        pub fn max_age(&self) -> Duration {
            self.inner.max_age()
        }
    }
}

crate::export! {
    /// Checks that a callback (absolute `url`, posted `body`) is genuine, without a flow;
    /// `CttException.CallbackInvalid` says what is wrong.
    pub fn verify_callback(keys: Arc<CallbackKeys>, url: String, body: String)
        -> Result<VerifiedCallback, CttError> {
        let v = core::verify_callback(&keys.inner, &url, &body)?;
        Ok(VerifiedCallback {
            flow_id: v.flow_id,
            action: v.action,
            nonce: v.nonce,
            issued_at: v.issued_at,
            payload: Arc::new(CallbackPayload { inner: v.payload }),
        })
    }

    /// The flow id a callback URL claims, unverified, or null: which stored flow to load.
    pub fn claimed_flow_id(url: String) -> Option<String> {
        core::claimed_flow_id(&url)
    }
}

/// Saves a snapshot of the advancing flow for `advance(client, checkpoint)`, after every step that
/// changed it and before the create (sent only once this returned). Save with compare-and-swap on
/// `previousRevision` and throw when the row moved on; a throw fails the advance. It runs on the
/// binding's thread while the advance waits: keep it short, never call this library from it.
#[uniffi::export(with_foreign)]
pub trait FlowCheckpoint: Send + Sync {
    /// Saves `flow` if the stored row is still at `previousRevision`; throws otherwise.
    fn save(&self, flow: Arc<Onboarding>, previous_revision: i64) -> Result<(), CheckpointError>;
}

/// What a [`FlowCheckpoint`] throws: the `CttException` the advance fails with (uniffi 0.32 cannot
/// lower another crate's error from a Kotlin callback).
#[derive(Debug, Clone, uniffi::Error)]
pub enum CheckpointError {
    /// The save failed with `error`.
    Failed {
        /// The exception the advance fails with.
        error: CttError,
    },
}

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let CheckpointError::Failed { error } = self;
        std::fmt::Display::fmt(error, f)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CheckpointError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CheckpointError::Failed { error: e.into() }
    }
}

/// Core's `Checkpoint` over the Kotlin [`FlowCheckpoint`].
struct ForeignCheckpoint(Arc<dyn FlowCheckpoint>);

impl Checkpoint for ForeignCheckpoint {
    fn save(
        &mut self,
        flow: &core::Onboarding,
        previous_revision: u64,
    ) -> futures::future::BoxFuture<'static, core::Result<()>> {
        let snapshot = Onboarding::wrap(FlowHandle::from_flow(flow.clone()));
        // Revisions stay below 2^53, so they always fit.
        let previous = i64::try_from(previous_revision).unwrap_or(i64::MAX);
        let checkpoint = Arc::clone(&self.0);
        // A blocking foreign call: the runtime moves its other tasks to another thread meanwhile.
        let result = tokio::task::block_in_place(move || checkpoint.save(snapshot, previous));
        let result = result.map_err(|CheckpointError::Failed { error }| core::Error::from(error));
        Box::pin(std::future::ready(result))
    }
}

/// One enterprise's onboarding, to store (`toJson`, which holds the admin's MSAL result: a secret)
/// and resume (`fromJson`). While an `advance` runs, reads see its last finished step.
#[derive(uniffi::Object)]
#[uniffi::export(Display)]
pub struct Onboarding {
    flow: FlowHandle,
}

impl Onboarding {
    fn wrap(flow: FlowHandle) -> Arc<Self> {
        Arc::new(Self { flow })
    }
}

impl std::fmt::Display for Onboarding {
    /// Core's summary of the flow (no secret in it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.flow.read(|flow| std::fmt::Display::fmt(flow, f))
    }
}

crate::export! {
    impl Onboarding {
        /// A new flow for `plan`; `CttException.InvalidInput` names what is wrong with the plan.
        #[uniffi::constructor]
        pub fn new(plan: OnboardingPlan) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(FlowHandle::new(plan)?))
        }

        /// A flow from `toJson()`'s output; a newer schema is refused (`CttException.InvalidInput`).
        #[uniffi::constructor]
        pub fn from_json(json: String) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(FlowHandle::from_json(&json)?))
        }

        /// The flow as versioned JSON, to store in the portal's database (it holds tokens).
        pub fn to_json(&self) -> Result<String, CttError> {
            Ok(self.flow.read(|f| f.to_json())?)
        }

        /// The flow as JSON without MSAL tokens (the admin signs in again when needed; an
        /// unconfirmed callback is not kept).
        pub fn to_json_without_tokens(&self) -> Result<String, CttError> {
            Ok(self.flow.read(|f| f.to_json_without_tokens())?)
        }

        /// The flow's revision: 0 when new, rising with every change; save with compare-and-swap.
        pub fn revision(&self) -> i64 {
            self.flow.read(|f| i64::try_from(f.revision()).unwrap_or(i64::MAX))
        }

        /// True while an accepted callback awaits `advance`'s confirmation.
        pub fn has_unconfirmed_callback(&self) -> bool {
            self.flow.read(|f| f.has_unconfirmed_callback())
        }

        /// The flow's id (it is in every redirect URL the flow asks for).
        pub fn id(&self) -> String {
            self.flow.read(|f| f.id().to_owned())
        }

        /// The plan.
        pub fn plan(&self) -> OnboardingPlan {
            self.flow.read(|f| f.plan().clone())
        }

        /// Every step in the seed's order with its state.
        pub fn status(&self) -> Vec<StepStatus> {
            self.flow.read(|f| f.status())
        }

        /// The enterprise's id, once created (or given).
        pub fn enterprise_id(&self) -> Option<i64> {
            self.flow.read(|f| f.enterprise_id())
        }

        /// The tenant bound at registration.
        pub fn tenant_id(&self) -> Option<String> {
            self.flow.read(|f| f.tenant_id().map(str::to_owned))
        }

        /// What the last `advance` returned, computed from the state (no call is made).
        pub fn progress(&self) -> Option<Progress> {
            self.flow.read(|f| f.progress())
        }

        /// True when every step is done or skipped.
        pub fn is_complete(&self) -> bool {
            self.flow.read(|f| f.is_complete())
        }

        /// True while an `advance` of this flow runs.
        pub fn is_advancing(&self) -> bool {
            self.flow.is_advancing()
        }

        /// Takes the callback the portal received at `url` with `body`, verified with `keys`; a
        /// rejection (`CallbackInvalid`) leaves the flow as it was; `FlowState` while advancing.
        pub fn handle_callback(&self, keys: Arc<CallbackKeys>, url: String, body: String)
            -> Result<CallbackOutcome, CttError> {
            Ok(self.flow.handle_callback(&keys.inner, &url, &body)?)
        }

        /// Cancels the `advance` in flight (it fails with `FlowState`, finished steps kept);
        /// false when none runs.
        pub fn cancel_advance(&self) -> bool {
            self.flow.cancel_advance()
        }
    }
}

// Not through `export!`: the flow is marked advancing when the call starts (core's
// `start_advance`, on the caller's thread), before the call is spawned, so a `cancelAdvance()` or
// `isAdvancing()` right after it sees this advance. The rest runs as `export!` runs it.
#[uniffi::export]
impl Onboarding {
    /// Performs every API step it can and stops where the flow needs the admin or time;
    /// cancelling the coroutine keeps every finished step. The client needs a callback key.
    pub async fn advance(self: Arc<Self>, client: Arc<Client>) -> Result<Progress, CttError> {
        self.run(&client, Box::new(core::NoCheckpoint)).await
    }

    /// `advance` with a [`FlowCheckpoint`]; from Kotlin call `advance(client, checkpoint)`,
    /// which also turns any `Throwable` of the checkpoint into `CttException.FlowState`.
    pub async fn advance_with_checkpoint(
        self: Arc<Self>,
        client: Arc<Client>,
        checkpoint: Arc<dyn FlowCheckpoint>,
    ) -> Result<Progress, CttError> {
        let checkpoint = ForeignCheckpoint(checkpoint);
        self.run(&client, Box::new(checkpoint)).await
    }
}

impl Onboarding {
    async fn run(&self, client: &Client, saves: Box<dyn Checkpoint>) -> Result<Progress, CttError> {
        let advance = guard(|| Ok(self.flow.start_advance(client.inner.clone(), saves)?))?;
        guard_async(async move { Ok(advance.await?) }).await
    }
}
