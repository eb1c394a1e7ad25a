//! The resumable onboarding flow and callback verification.
//!
//! The flow object wraps core's [`FlowHandle`], which decides once for every binding what a read,
//! a callback or a second advance does while an `advance` runs: reads never wait (they see the
//! flow as of the advance's last finished step), a callback or a second advance is
//! `CttException.FlowState`. Cancelling the coroutine that awaits `advance` drops its future (see
//! `runtime`), which cancels the advance: every step that finished is kept.
//!
//! Callbacks: [`CallbackKeys`] is core's key ring (keys are bytes); `handleCallback` takes a ring
//! or a client (whose ring and clock it uses). `advanceWithCheckpoint` calls a Kotlin
//! [`FlowCheckpoint`] through core's `Checkpoint`, on the binding's runtime thread that runs the
//! advance, with a snapshot of the flow.

use crate::client::{Client, ManualClock};
use crate::error::invalid_input;
use crate::models::CallbackPayload;
use ctt_onboard::{
    self as core, ActionType, CallbackOutcome, CttError, FlowHandle, OnboardingPlan, Progress,
    StepStatus,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A callback that passed verification: which flow, action and ask it belongs to, and its payload.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifiedCallback {
    /// The id of the flow that asked for the URL.
    pub flow_id: String,
    /// The action the URL was for.
    pub action: ActionType,
    /// The ask's nonce (random, one per ask): the flow accepts the callback only while this is
    /// the ask it waits for.
    pub nonce: String,
    /// When the URL was issued (it answers until the key ring's maximum age has passed).
    pub issued_at: SystemTime,
    /// The parsed body (its `toString()` masks the tokens).
    pub payload: Arc<CallbackPayload>,
}

/// The portal's callback keys (keys are bytes, at least 16; a string is its UTF-8 bytes): one key
/// that signs new redirect URLs, older keys that still verify the URLs they signed, the ids of
/// retired keys (their URLs fail saying "retired"), how long a URL answers (default 72 hours),
/// and the clock that judges it. Every method returns a new ring and leaves this one as it was:
/// `CallbackKeys(newKey, "k2").verifyAlso(oldKey, "k1").retire("k0")`. Give it to the client
/// builder (`callbackKeys`) and to `handleCallback` / `verifyCallback`. `toString()` shows the
/// key ids, never the keys.
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
        /// A ring whose signing key is `signingKey` (at least 16 bytes). `id` (1 to 32 of
        /// `A-Z a-z 0-9 - _ .`) travels in every URL the key signs; without one, it is derived
        /// from the key (the same key always gets the same id). `CttException.InvalidInput` says
        /// what is wrong.
        #[uniffi::constructor(default(id = None))]
        pub fn new(signing_key: Vec<u8>, id: Option<String>) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(core::CallbackKeys::new(callback_key(signing_key, id)?)))
        }

        /// This ring plus an older key that still verifies the URLs it signed (it signs nothing
        /// new). `id` as for the constructor; an id already in the ring is `CttException.InvalidInput`.
        #[uniffi::method(default(id = None))]
        pub fn verify_also(&self, key: Vec<u8>, id: Option<String>) -> Result<Arc<Self>, CttError> {
            let ring = self.inner.clone().with_verify_key(callback_key(key, id)?)?;
            Ok(Self::wrap(ring))
        }

        /// This ring with the key id `id` retired: URLs that key signed are refused with
        /// `CttException.CallbackInvalid` saying the key was retired. An id of a key still in the
        /// ring is `CttException.InvalidInput`.
        pub fn retire(&self, id: String) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(self.inner.clone().with_retired(id)?))
        }

        /// This ring with URLs answering for `seconds` after they were issued (at least 60;
        /// the default is 72 hours).
        pub fn max_age_seconds(&self, seconds: i64) -> Result<Arc<Self>, CttError> {
            let secs = u64::try_from(seconds).map_err(|_| {
                invalid_input(format!("callback max_age is {seconds} s; it must be at least 60 s"))
            })?;
            Ok(Self::wrap(self.inner.clone().with_max_age(Duration::from_secs(secs))?))
        }

        /// This ring judging URL ages by `clock` (a test knob). Without one, a ring given to a
        /// client follows the client's clock, and a ring used alone the system's.
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
    /// Checks that a callback is genuine: `url` is the absolute URL it was delivered to, `body`
    /// the JSON posted, `keys` the portal's key ring. Returns the flow id, action and ask so the
    /// portal can load that flow; `CttException.CallbackInvalid` says what is wrong (a bad tag, a
    /// retired or unknown key, an expired URL, a body that is not the documented JSON). Whether
    /// the ask is the one the flow waits for is `Onboarding.handleCallback`'s to judge.
    pub fn verify_callback(
        keys: Arc<CallbackKeys>,
        url: String,
        body: String,
    ) -> Result<VerifiedCallback, CttError> {
        let v = core::verify_callback(&keys.inner, &url, &body)?;
        Ok(VerifiedCallback {
            flow_id: v.flow_id,
            action: v.action,
            nonce: v.nonce,
            issued_at: v.issued_at,
            payload: Arc::new(CallbackPayload { inner: v.payload }),
        })
    }

    /// The flow id a callback URL claims, unverified (absolute, or the path and query the portal's
    /// router saw), or null: which stored flow to load before `handleCallback` verifies it.
    pub fn claimed_flow_id(url: String) -> Option<String> {
        core::claimed_flow_id(&url)
    }
}

/// Saves a flow for `Onboarding.advance(client, checkpoint)`: called after every step that
/// changed the flow and before the create, which is sent only when this returned.
///
/// Save `flow` (`flow.toJson()` and `flow.revision()`) only if the stored row is still at
/// `previousRevision`, such as with `UPDATE flows SET json = ?, revision = ? WHERE id = ? AND
/// revision = ?`, and throw when it is not (`CttException.FlowState` is the usual answer), so a
/// stale writer never overwrites a newer one. A thrown `CttException` fails the advance with
/// that exception; any other exception fails it with `CttException.FlowState`. Before the create,
/// a failure means nothing is sent.
///
/// `flow` is a snapshot: a copy of the advancing flow at this point. The call runs on one of the
/// binding's own threads while the advance waits for it: keep it short, and never wait there for
/// another call of this library.
#[uniffi::export(with_foreign)]
pub trait FlowCheckpoint: Send + Sync {
    /// Saves `flow` if the stored row is still at `previousRevision`; throws otherwise.
    fn save(&self, flow: Arc<Onboarding>, previous_revision: i64) -> Result<(), CheckpointError>;
}

/// What a [`FlowCheckpoint`] throws: the `CttException` the advance fails with. (uniffi cannot
/// yet lower another crate's error type from a Kotlin callback, so core's error travels inside
/// this one; `advance(client, checkpoint)` wraps whatever the checkpoint throws.)
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

impl core::Checkpoint for ForeignCheckpoint {
    fn save(
        &mut self,
        flow: &core::Onboarding,
        previous_revision: u64,
    ) -> futures::future::BoxFuture<'static, core::Result<()>> {
        let snapshot = Onboarding::wrap(FlowHandle::from_flow(flow.clone()));
        // Revisions stay below 2^53, so they always fit.
        let previous = i64::try_from(previous_revision).unwrap_or(i64::MAX);
        let checkpoint = Arc::clone(&self.0);
        // A blocking foreign call from a task on the binding's runtime: let the runtime move its
        // other tasks to another thread meanwhile, so a slow save never stalls other calls.
        let result = tokio::task::block_in_place(move || checkpoint.save(snapshot, previous));
        let result = result.map_err(|CheckpointError::Failed { error }| core::Error::from(error));
        Box::pin(std::future::ready(result))
    }
}

/// One enterprise's onboarding: a value to store (`toJson`) and resume (`Onboarding.fromJson`).
/// Its JSON holds the Global Admin's latest MSAL result: store it as you would store a token.
/// `toString()` shows no secret. While an `advance` is in flight, reads see the flow as of its
/// last finished step, and `handleCallback` fails with `CttException.FlowState`.
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
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.flow.read(|flow| {
            write!(
                f,
                "Onboarding(id={}, enterprise={:?}, enterpriseId={:?}, complete={})",
                flow.id(),
                flow.plan().enterprise.enterprise_name,
                flow.enterprise_id(),
                flow.is_complete()
            )
        })
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

        /// The flow as versioned JSON, to store in the portal's database.
        pub fn to_json(&self) -> Result<String, CttError> {
            Ok(self.flow.read(|f| f.to_json())?)
        }

        /// The flow as JSON with no MSAL token in it: a flow loaded from it asks the Global Admin
        /// to sign in again (`LOGIN_ENTERPRISE_ADMIN`) when a step needs the admin's sign-in. A
        /// callback still awaiting confirmation is not kept: `advance` after `handleCallback`
        /// before saving this way, or the ask is made again.
        pub fn to_json_without_tokens(&self) -> Result<String, CttError> {
            Ok(self.flow.read(|f| f.to_json_without_tokens())?)
        }

        /// The flow's revision: 0 when new, rising with every change (a step, an accepted
        /// callback), at most 2^53-1. Save with compare-and-swap on it (`UPDATE flows SET json = ?,
        /// revision = ? WHERE id = ? AND revision = ?`): a writer whose row moved on reloads the
        /// flow and applies its change again.
        pub fn revision(&self) -> i64 {
            self.flow.read(|f| i64::try_from(f.revision()).unwrap_or(i64::MAX))
        }

        /// True while a callback was accepted and `advance` has yet to confirm it with
        /// ConnecttoTeams.
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

        /// Takes the callback the portal received at `url` (absolute, or the path and query its
        /// router saw) with `body`, checked with `keys`, the portal's key ring. It is accepted only
        /// when its tag verifies, it answers the ask this flow waits for now and has not expired,
        /// the signer is a Global Admin, the body's tenant agrees with its access token and with
        /// the tenant bound at registration, and the token never answered before. A rejection is
        /// `CttException.CallbackInvalid` and leaves the state as it was; the same ask answered
        /// again with the same payload (whitespace and key order aside) is `DUPLICATE`. The next
        /// `advance` confirms the sign-in with ConnecttoTeams before the flow relies on it.
        /// `CttException.FlowState` while an `advance` runs.
        pub fn handle_callback(
            &self,
            keys: Arc<CallbackKeys>,
            url: String,
            body: String,
        ) -> Result<CallbackOutcome, CttError> {
            Ok(self.flow.handle_callback(&keys.inner, &url, &body)?)
        }

        /// Stops the `advance` in flight at its next await point (it fails with
        /// `CttException.FlowState`; every step that finished is kept); false when none runs.
        pub fn cancel_advance(&self) -> bool {
            self.flow.cancel_advance()
        }
    }
}

crate::export! {
    impl Onboarding {
        /// Performs every API step it can, in the seed's order, and stops where the flow needs
        /// the Global Admin or time. Cancelling the coroutine keeps every finished step; call it
        /// again to go on. The client must have a callback key.
        pub async fn advance(&self, client: Arc<Client>) -> Result<Progress, CttError> {
            Ok(self.flow.advance(&client.inner, &mut core::NoCheckpoint).await?)
        }

        /// `advance`, calling `checkpoint` with a snapshot of the flow after every step that
        /// changed it and before the create; when the checkpoint throws, `advance` stops with its
        /// exception (before the create: nothing is sent). From Kotlin, call it as
        /// `advance(client, checkpoint)`, which also turns any `Throwable` of the checkpoint
        /// into `CttException.FlowState`.
        pub async fn advance_with_checkpoint(
            &self,
            client: Arc<Client>,
            checkpoint: Arc<dyn FlowCheckpoint>,
        ) -> Result<Progress, CttError> {
            let mut checkpoint = ForeignCheckpoint(checkpoint);
            Ok(self.flow.advance(&client.inner, &mut checkpoint).await?)
        }
    }
}
