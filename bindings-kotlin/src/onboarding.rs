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

use crate::client::Client;
use crate::error::CttError;
use crate::models::{ActionType, CallbackPayload, NewEnterprise};
use ctt_onboard as core;
use std::sync::Arc;
use std::time::SystemTime;

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

/// A callback that passed verification: which flow and action it belongs to, and its payload.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifiedCallback {
    /// The id of the flow that asked for the URL.
    pub flow_id: String,
    /// The action the URL was for.
    pub action: ActionType,
    /// The parsed body (its `toString()` masks the tokens).
    pub payload: Arc<CallbackPayload>,
}

crate::export! {
    /// Checks that a callback is genuine: `url` is the URL it was delivered to (absolute, or the path
    /// and query the portal's router saw), `body` the JSON posted, `key` the portal's callback key.
    /// Returns the flow id and action so the portal can load that flow; `CttException.CallbackInvalid`
    /// says what is wrong.
    pub fn verify_callback(
        key: String,
        url: String,
        body: String,
    ) -> Result<VerifiedCallback, CttError> {
        let v = core::verify_callback(key.as_bytes(), &url, &body)?;
        Ok(VerifiedCallback {
            flow_id: v.flow_id,
            action: v.action.into(),
            payload: Arc::new(CallbackPayload { inner: v.payload }),
        })
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

        /// Takes the callback the portal received at `url` with `body`, after checking that it is
        /// genuine (`key` is the portal's callback key), for this flow and the action it waits for,
        /// from a Global Admin of the tenant bound at registration. A rejection is
        /// `CttException.CallbackInvalid` and leaves the state as it was.
        pub fn handle_callback(
            &self,
            key: String,
            url: String,
            body: String,
        ) -> Result<CallbackOutcome, CttError> {
            Ok(self
                .read(|f| f.handle_callback(key.as_bytes(), &url, &body))??
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
    }
}
