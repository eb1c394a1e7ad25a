//! The resumable onboarding flow (core's `Onboarding`) and callback verification.
//!
//! The flow object holds core's `Onboarding` in an `Arc<tokio::sync::Mutex<..>>` that `advance`
//! locks inside its future: when the awaiting coroutine is cancelled, uniffi drops the future,
//! the lock is released, and every step that finished before is kept (core writes each step's
//! result into the state before the next one starts). The other methods only try the lock: while an
//! `advance` is in flight they fail with `CttException.FlowState` instead of blocking the calling
//! thread (an `advance` waits for the vendor, and a JVM thread blocked for as long, perhaps a
//! coroutine dispatcher's, would stall everything else scheduled there), and they never see half a
//! step.
//!
//! Callbacks: [`CallbackKeys`] is core's key ring (keys are bytes); `handleCallback` takes a ring
//! or a client (whose ring and clock it uses). `advanceWithCheckpoint` calls a Kotlin
//! [`FlowCheckpoint`] through core's `Checkpoint`, on the binding's runtime thread that runs the
//! advance, with a snapshot of the flow.

use crate::client::{Client, ManualClock};
use crate::error::CttError;
use crate::models::{ActionType, CallbackPayload, NewEnterprise};
use ctt_onboard as core;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What to onboard and how.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OnboardingPlan {
    /// The enterprise to create. `sbcGateways` and `pbxId` may be empty to have them chosen in
    /// Part I (gateways by `gatewayRegions`, the default PBX type).
    pub enterprise: NewEnterprise,
    /// The portal's callback URL (https, or http on a loopback host).
    pub redirect_url: String,
    /// Region names to choose gateways by, when `enterprise.sbcGateways` is empty.
    #[uniffi(default)]
    pub gateway_regions: Vec<String>,
    /// The id of an enterprise that already exists: the flow starts at Part II.
    #[uniffi(default)]
    pub existing_enterprise_id: Option<i64>,
    /// Optional consents to ask for: contacts, CDR, call recording.
    #[uniffi(default)]
    pub optional_consents: Vec<ActionType>,
    /// Ask for "Allow Management by Service Provider" and record it (recommended).
    #[uniffi(default = true)]
    pub service_provider_management: bool,
}

impl From<OnboardingPlan> for core::OnboardingPlan {
    fn from(p: OnboardingPlan) -> Self {
        let mut plan = core::OnboardingPlan::new(p.enterprise.into(), p.redirect_url);
        plan.gateway_regions = p.gateway_regions;
        plan.existing_enterprise_id = p.existing_enterprise_id;
        plan.optional_consents = p.optional_consents.into_iter().map(Into::into).collect();
        plan.service_provider_management = p.service_provider_management;
        plan
    }
}

impl From<core::OnboardingPlan> for OnboardingPlan {
    fn from(p: core::OnboardingPlan) -> Self {
        Self {
            enterprise: p.enterprise.into(),
            redirect_url: p.redirect_url,
            gateway_regions: p.gateway_regions,
            existing_enterprise_id: p.existing_enterprise_id,
            optional_consents: p.optional_consents.into_iter().map(Into::into).collect(),
            service_provider_management: p.service_provider_management,
        }
    }
}

/// Where `advance` stopped.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Progress {
    /// Show `url` to the enterprise's Global Admin; the flow continues after the callback.
    AwaitingAdmin {
        /// What the admin is asked to do.
        action: ActionType,
        /// The action item URL.
        url: String,
    },
    /// Nothing can happen before `notBefore` (the vendor's 30 minutes after enabling roles).
    WaitingUntil {
        /// The earliest time to call `advance` again.
        not_before: SystemTime,
        /// Why.
        reason: String,
    },
    /// Every step is done.
    Complete {
        /// The enterprise's id.
        enterprise_id: i64,
        /// The Microsoft tenant it is registered to.
        tenant_id: String,
    },
}

impl From<core::Progress> for Progress {
    fn from(p: core::Progress) -> Self {
        match p {
            core::Progress::AwaitingAdmin { action, url } => Progress::AwaitingAdmin {
                action: action.into(),
                url,
            },
            core::Progress::WaitingUntil { not_before, reason } => {
                Progress::WaitingUntil { not_before, reason }
            }
            core::Progress::Complete {
                enterprise_id,
                tenant_id,
            } => Progress::Complete {
                enterprise_id,
                tenant_id,
            },
        }
    }
}

/// What `handleCallback` did with a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallbackOutcome {
    /// The callback advanced the flow.
    Accepted,
    /// The same callback arrived before; nothing changed.
    Duplicate,
}

impl From<core::CallbackOutcome> for CallbackOutcome {
    fn from(o: core::CallbackOutcome) -> Self {
        match o {
            core::CallbackOutcome::Accepted => CallbackOutcome::Accepted,
            core::CallbackOutcome::Duplicate => CallbackOutcome::Duplicate,
        }
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StepState {
    /// Not reached yet.
    Pending,
    /// Finished; see the detail.
    Done,
    /// Does not apply to this plan or tenant; the detail says why.
    Skipped,
    /// Waiting for the Global Admin or for time to pass.
    Waiting,
    /// The last attempt failed; `advance` again retries it.
    Failed,
}

impl From<core::StepState> for StepState {
    fn from(s: core::StepState) -> Self {
        match s {
            core::StepState::Pending => StepState::Pending,
            core::StepState::Done => StepState::Done,
            core::StepState::Skipped => StepState::Skipped,
            core::StepState::Waiting => StepState::Waiting,
            core::StepState::Failed => StepState::Failed,
        }
    }
}

/// One line of `status()`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StepStatus {
    /// The step's snake_case name, such as `create_enterprise` (the same in every binding).
    pub step: String,
    /// A title for people, such as "Create the enterprise".
    pub title: String,
    /// The action a Global Admin acts on for this step, if it is one of those.
    pub action: Option<ActionType>,
    /// Its state.
    pub state: StepState,
    /// The result that matters (an id, a URL), why it was skipped, or what failed.
    pub detail: Option<String>,
    /// When the state last changed.
    pub updated_at: Option<SystemTime>,
    /// The error code of the last failure, for `Failed`.
    pub error_code: Option<String>,
}

impl From<core::StepStatus> for StepStatus {
    fn from(s: core::StepStatus) -> Self {
        Self {
            step: s.step.name().to_owned(),
            title: s.step.title().to_owned(),
            action: s.step.action().map(Into::into),
            state: s.state.into(),
            detail: s.detail,
            updated_at: s.updated_at,
            error_code: s.error_code.map(|c| c.as_str().to_owned()),
        }
    }
}

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

impl std::fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
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
                CttError::invalid_input(format!("callback max_age is {seconds} s; it must be at least 60 s"))
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
            action: v.action.into(),
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
/// `flow` is a snapshot: a copy of the advancing flow at this point (the flow being advanced is
/// busy until `advance` returns). The call runs on one of the binding's own threads while the
/// advance waits for it: keep it short, and never wait there for another call of this library.
#[uniffi::export(with_foreign)]
pub trait FlowCheckpoint: Send + Sync {
    /// Saves `flow` if the stored row is still at `previousRevision`; throws otherwise.
    fn save(&self, flow: Arc<Onboarding>, previous_revision: i64) -> Result<(), CttError>;
}

/// Core's `Checkpoint` over the Kotlin [`FlowCheckpoint`].
struct ForeignCheckpoint(Arc<dyn FlowCheckpoint>);

type SaveFuture = Pin<Box<dyn Future<Output = core::Result<()>> + Send + 'static>>;

impl core::Checkpoint for ForeignCheckpoint {
    fn save(&mut self, flow: &core::Onboarding, previous_revision: u64) -> SaveFuture {
        let snapshot = Onboarding::wrap(flow.clone());
        // Revisions stay below 2^53, so they always fit.
        let previous = i64::try_from(previous_revision).unwrap_or(i64::MAX);
        let checkpoint = Arc::clone(&self.0);
        let result = off_the_runtime(move || checkpoint.save(snapshot, previous))
            .map_err(CttError::into_core);
        Box::pin(std::future::ready(result))
    }
}

/// Runs a blocking foreign call from a task on the binding's runtime, letting the runtime move
/// its other tasks to another thread meanwhile (so a slow save never stalls other calls).
fn off_the_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// One enterprise's onboarding: a value to store (`toJson`) and resume (`Onboarding.fromJson`).
/// Its JSON holds the Global Admin's latest MSAL result: store it as you would store a token.
/// `toString()` shows no secret. While an `advance` is in flight, the other methods fail with
/// `CttException.FlowState` rather than wait.
#[derive(uniffi::Object)]
#[uniffi::export(Display)]
pub struct Onboarding {
    id: String,
    inner: Arc<tokio::sync::Mutex<core::Onboarding>>,
}

impl Onboarding {
    fn wrap(flow: core::Onboarding) -> Arc<Self> {
        Arc::new(Self {
            id: flow.id().to_owned(),
            inner: Arc::new(tokio::sync::Mutex::new(flow)),
        })
    }

    fn read<T>(&self, f: impl FnOnce(&mut core::Onboarding) -> T) -> Result<T, CttError> {
        match self.inner.try_lock() {
            Ok(mut flow) => Ok(f(&mut flow)),
            Err(_) => Err(core::Error::flow_state(
                "an advance of this flow is in progress; call this again when it has returned",
            )
            .into()),
        }
    }
}

impl std::fmt::Display for Onboarding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.try_lock() {
            Ok(flow) => write!(
                f,
                "Onboarding(id={}, enterprise={:?}, enterpriseId={:?}, complete={})",
                self.id,
                flow.plan().enterprise.enterprise_name,
                flow.enterprise_id(),
                flow.is_complete()
            ),
            Err(_) => write!(f, "Onboarding(id={}, advancing)", self.id),
        }
    }
}

impl std::fmt::Debug for Onboarding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

crate::export! {
    impl Onboarding {
        /// A new flow for `plan`; `CttException.InvalidInput` names what is wrong with the plan.
        #[uniffi::constructor]
        pub fn new(plan: OnboardingPlan) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(core::Onboarding::new(plan.into())?))
        }

        /// A flow from `toJson()`'s output; a newer schema is refused (`CttException.InvalidInput`).
        #[uniffi::constructor]
        pub fn from_json(json: String) -> Result<Arc<Self>, CttError> {
            Ok(Self::wrap(core::Onboarding::from_json(&json)?))
        }

        /// The flow as versioned JSON, to store in the portal's database.
        pub fn to_json(&self) -> Result<String, CttError> {
            Ok(self.read(|f| f.to_json())??)
        }

        /// The flow as JSON with no MSAL token in it: a flow loaded from it asks the Global Admin
        /// to sign in again (`LOGIN_ENTERPRISE_ADMIN`) when a step needs the admin's sign-in. A
        /// callback still awaiting confirmation is not kept: `advance` after `handleCallback`
        /// before saving this way, or the ask is made again.
        pub fn to_json_without_tokens(&self) -> Result<String, CttError> {
            Ok(self.read(|f| f.to_json_without_tokens())??)
        }

        /// The flow's revision: 0 when new, rising with every change (a step, an accepted
        /// callback), at most 2^53-1. Save with compare-and-swap on it (`UPDATE flows SET json = ?,
        /// revision = ? WHERE id = ? AND revision = ?`): a writer whose row moved on reloads the
        /// flow and applies its change again.
        pub fn revision(&self) -> Result<i64, CttError> {
            self.read(|f| i64::try_from(f.revision()).unwrap_or(i64::MAX))
        }

        /// True while a callback was accepted and `advance` has yet to confirm it with
        /// ConnecttoTeams.
        pub fn has_unconfirmed_callback(&self) -> Result<bool, CttError> {
            self.read(|f| f.has_unconfirmed_callback())
        }

        /// The flow's id (it is in every redirect URL the flow asks for).
        pub fn id(&self) -> String {
            self.id.clone()
        }

        /// The plan.
        pub fn plan(&self) -> Result<OnboardingPlan, CttError> {
            self.read(|f| f.plan().clone().into())
        }

        /// Every step in the seed's order with its state.
        pub fn status(&self) -> Result<Vec<StepStatus>, CttError> {
            self.read(|f| f.status().into_iter().map(Into::into).collect())
        }

        /// The enterprise's id, once created (or given).
        pub fn enterprise_id(&self) -> Result<Option<i64>, CttError> {
            self.read(|f| f.enterprise_id())
        }

        /// The tenant bound at registration.
        pub fn tenant_id(&self) -> Result<Option<String>, CttError> {
            self.read(|f| f.tenant_id().map(str::to_owned))
        }

        /// What the last `advance` returned, computed from the state (no call is made).
        pub fn progress(&self) -> Result<Option<Progress>, CttError> {
            self.read(|f| f.progress().map(Into::into))
        }

        /// True when every step is done or skipped.
        pub fn is_complete(&self) -> Result<bool, CttError> {
            self.read(|f| f.is_complete())
        }

        /// Takes the callback the portal received at `url` (absolute, or the path and query its
        /// router saw) with `body`, checked with `keys`, the portal's key ring. It is accepted only
        /// when its tag verifies, it answers the ask this flow waits for now and has not expired,
        /// the signer is a Global Admin, the body's tenant agrees with its access token and with
        /// the tenant bound at registration, and the token never answered before. A rejection is
        /// `CttException.CallbackInvalid` and leaves the state as it was; the same ask answered
        /// again with the same payload (whitespace and key order aside) is `DUPLICATE`. The next
        /// `advance` confirms the sign-in with ConnecttoTeams before the flow relies on it.
        pub fn handle_callback(
            &self,
            keys: Arc<CallbackKeys>,
            url: String,
            body: String,
        ) -> Result<CallbackOutcome, CttError> {
            Ok(self
                .read(|f| f.handle_callback(&keys.inner, &url, &body))??
                .into())
        }

        /// `handleCallback` with the key ring of `client` (and its clock); from Kotlin, call it
        /// as `handleCallback(client, url, body)`. `CttException.InvalidInput` when the client has
        /// no callback key.
        pub fn handle_callback_with_client(
            &self,
            client: Arc<Client>,
            url: String,
            body: String,
        ) -> Result<CallbackOutcome, CttError> {
            let keys = client.inner.callback_keys().ok_or_else(|| {
                CttError::invalid_input(
                    "the client has no callback key: set callbackKey or callbackKeys on the client builder",
                )
            })?;
            Ok(self
                .read(|f| f.handle_callback(keys, &url, &body))??
                .into())
        }
    }
}

crate::export! {
    impl Onboarding {
        /// Performs every API step it can, in the seed's order, and stops where the flow needs
        /// the Global Admin or time. Cancelling the coroutine keeps every finished step; call it
        /// again to go on. The client must have a callback key.
        pub async fn advance(&self, client: Arc<Client>) -> Result<Progress, CttError> {
            let flow = self.inner.clone();
            let mut guard = flow.lock().await;
            Ok(guard.advance(&client.inner).await?.into())
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
            let flow = self.inner.clone();
            let mut guard = flow.lock().await;
            let mut checkpoint = ForeignCheckpoint(checkpoint);
            Ok(guard
                .advance_with_checkpoint(&client.inner, &mut checkpoint)
                .await?
                .into())
        }
    }
}
