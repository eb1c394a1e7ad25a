//! The onboarding as a resumable state machine: Parts I to III of the vendor's guide as data.
//!
//! The flow spans days and people: a Global Admin clicks links in between, a portal restarts, a
//! worker is killed mid-request. So the flow is not a running task but a value: [`Onboarding`]
//! holds the plan and what every step has produced, serializes to versioned JSON, and
//! [`Onboarding::advance`] performs every API step it can, writing each result into the state
//! before the next step starts. Calling it again repeats nothing that succeeded; dropping it
//! mid-call loses at most the step in flight, and the one step that is not idempotent (the
//! create) settles a repeat by finding the enterprise it made.

use crate::callback::{self, Ask, CallbackKeys};
use crate::client::{Client, parse_endpoint_url};
use crate::error::{Error, ErrorCode, Result};
use crate::models::{ActionType, AuthenticationResult, NewEnterprise, Service};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod accept;
mod checkpoint;
mod create;

pub use accept::CallbackOutcome;
pub use checkpoint::{Checkpoint, NoCheckpoint};

/// The flow JSON's schema version; `from_json` refuses a newer one and reads version 1 (a
/// version-1 ask is asked again, since its URL carries no nonce).
pub const SCHEMA_VERSION: u32 = 2;
/// The latest time a flow's JSON may hold (the end of year 9999), so no timestamp read from it
/// can overflow later.
pub const MAX_UNIX: u64 = 253_402_300_799;
/// The largest revision a flow carries: JavaScript's largest safe integer, so every binding
/// reads it exactly.
pub const MAX_REVISION: u64 = (1 << 53) - 1;
/// The vendor's wait after enabling the Teams admin roles.
pub const ROLES_WAIT: Duration = Duration::from_secs(30 * 60);
/// An MSAL result this close to expiry counts as expired (a call may take a while).
pub const MSAL_EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// What to onboard and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnboardingPlan {
    /// The enterprise to create. `sbc_gateways` and `pbx_id` may be left empty to have them
    /// chosen in Part I: gateways by [`gateway_regions`](Self::gateway_regions), the PBX type
    /// marked default. With [`existing_enterprise_id`](Self::existing_enterprise_id), only the
    /// name and services are used.
    pub enterprise: NewEnterprise,
    /// Region names (`sbcGatewayRegion`) to choose gateways by, when `enterprise.sbc_gateways` is empty.
    #[serde(default)]
    pub gateway_regions: Vec<String>,
    /// The id of an enterprise that already exists: the flow starts at Part II.
    #[serde(default)]
    pub existing_enterprise_id: Option<i64>,
    /// The portal's callback URL (https, or http on a loopback host). Each URL the flow asks for
    /// gets this plus the flow's query parameters.
    pub redirect_url: String,
    /// Optional consents to ask for: contacts, CDR, call recording.
    #[serde(default)]
    pub optional_consents: Vec<ActionType>,
    /// Ask for "Allow Management by Service Provider" and record it (recommended). Default true.
    #[serde(default = "default_true")]
    pub service_provider_management: bool,
}

fn default_true() -> bool {
    true
}

impl OnboardingPlan {
    /// A plan to create `enterprise` and onboard it, with service-provider management.
    pub fn new(enterprise: NewEnterprise, redirect_url: impl Into<String>) -> Self {
        Self {
            enterprise,
            gateway_regions: Vec::new(),
            existing_enterprise_id: None,
            redirect_url: redirect_url.into(),
            optional_consents: Vec::new(),
            service_provider_management: true,
        }
    }

    /// Checks the plan; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let redirect = parse_endpoint_url("redirect_url", &self.redirect_url)?;
        if redirect.query_pairs().any(|(k, _)| {
            [
                callback::FLOW_PARAM,
                callback::ACTION_PARAM,
                callback::TAG_PARAM,
            ]
            .contains(&k.as_ref())
        }) {
            return Err(Error::invalid_input(
                "redirect_url must not carry ctt_flow, ctt_action or ctt_tag: the flow adds them",
            ));
        }
        let mut probe = self.enterprise.clone();
        if let Some(id) = self.existing_enterprise_id {
            if id <= 0 {
                return Err(Error::invalid_input(format!(
                    "existing_enterprise_id is {id}; ids are positive"
                )));
            }
            probe.sbc_gateways = vec![1];
            probe.pbx_id = vec![1];
        } else {
            if probe.needs_gateways() && probe.sbc_gateways.is_empty() {
                if self.gateway_regions.iter().all(|r| r.trim().is_empty()) {
                    return Err(Error::invalid_input(
                        "sbcGateways: PBX and Trunk need gateways; give their ids or gateway_regions to choose them by region",
                    ));
                }
                probe.sbc_gateways = vec![1];
            }
            if probe.needs_pbx_type() && probe.pbx_id.is_empty() {
                probe.pbx_id = vec![1];
            }
        }
        probe.validate()?;
        for consent in &self.optional_consents {
            if !matches!(
                consent,
                ActionType::GetContactsConsent
                    | ActionType::GetCdrConsent
                    | ActionType::GetCallRecordingConsent
            ) {
                return Err(Error::invalid_input(format!(
                    "optional_consents contains {consent}; only GET_CONTACTS_CONSENT, GET_CDR_CONSENT and GET_CALL_RECORDING_CONSENT are optional"
                )));
            }
        }
        Ok(())
    }

    fn has(&self, service: &Service) -> bool {
        self.enterprise.services.contains(service)
    }
}

/// One step of the vendor's sequence, in the seed's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Part I.1: retrieve the SBC gateways (PBX or Trunk only).
    SbcGateways,
    /// Part I.2: retrieve the PBX types (PBX or CALLAPP only).
    PbxTypes,
    /// Part I.3: create the enterprise with restricted admin access.
    CreateEnterprise,
    /// Part II.1-2: the Global Admin registers the enterprise.
    Registration,
    /// Part II.3: enterprise-level API credentials.
    EnterpriseCredentials,
    /// Part II.4a: is the "Skype and Teams Tenant Admin API" provisioned?
    TenantAdminApiCheck,
    /// Part II.4b: provision it when it is not.
    ProvisionTenantAdminApi,
    /// Part III.1.i: user sync consent.
    UserSyncConsent,
    /// Part III.1.ii: presence consent.
    PresenceConsent,
    /// Part III.1.iii: "App Deployment Agent" consent.
    AgentConsent,
    /// Part III.1.iv: CallApp consent (CALLAPP only).
    CallAppConsent,
    /// Optional: contacts sync consent.
    ContactsConsent,
    /// Optional: call records (CDR) consent.
    CdrConsent,
    /// Call recording consent (with CallRecording, or when asked for).
    CallRecordingConsent,
    /// Part III.2a: "Allow Management by Service Provider" consent.
    ServiceProviderManagementConsent,
    /// Part III.2b: `updateEnterpriseManagementConsentByReseller`.
    ManagementConsentUpdate,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 16] = [
        Step::SbcGateways,
        Step::PbxTypes,
        Step::CreateEnterprise,
        Step::Registration,
        Step::EnterpriseCredentials,
        Step::TenantAdminApiCheck,
        Step::ProvisionTenantAdminApi,
        Step::UserSyncConsent,
        Step::PresenceConsent,
        Step::AgentConsent,
        Step::CallAppConsent,
        Step::ContactsConsent,
        Step::CdrConsent,
        Step::CallRecordingConsent,
        Step::ServiceProviderManagementConsent,
        Step::ManagementConsentUpdate,
    ];

    /// The snake_case name every binding uses.
    pub fn name(self) -> &'static str {
        match self {
            Step::SbcGateways => "sbc_gateways",
            Step::PbxTypes => "pbx_types",
            Step::CreateEnterprise => "create_enterprise",
            Step::Registration => "registration",
            Step::EnterpriseCredentials => "enterprise_credentials",
            Step::TenantAdminApiCheck => "tenant_admin_api_check",
            Step::ProvisionTenantAdminApi => "provision_tenant_admin_api",
            Step::UserSyncConsent => "user_sync_consent",
            Step::PresenceConsent => "presence_consent",
            Step::AgentConsent => "agent_consent",
            Step::CallAppConsent => "call_app_consent",
            Step::ContactsConsent => "contacts_consent",
            Step::CdrConsent => "cdr_consent",
            Step::CallRecordingConsent => "call_recording_consent",
            Step::ServiceProviderManagementConsent => "service_provider_management_consent",
            Step::ManagementConsentUpdate => "management_consent_update",
        }
    }

    /// A title for people, as a portal's checklist shows it.
    pub fn title(self) -> &'static str {
        match self {
            Step::SbcGateways => "Retrieve the SBC gateways",
            Step::PbxTypes => "Retrieve the PBX types",
            Step::CreateEnterprise => "Create the enterprise",
            Step::Registration => "Register with Microsoft",
            Step::EnterpriseCredentials => "Enterprise-level API credentials",
            Step::TenantAdminApiCheck => "Check the Teams Tenant Admin API",
            Step::ProvisionTenantAdminApi => "Provision the Teams Tenant Admin API",
            Step::UserSyncConsent => "Grant user sync consent",
            Step::PresenceConsent => "Grant presence consent",
            Step::AgentConsent => "Grant App Deployment Agent consent",
            Step::CallAppConsent => "Grant CallApp consent",
            Step::ContactsConsent => "Grant contacts consent",
            Step::CdrConsent => "Grant call records consent",
            Step::CallRecordingConsent => "Grant call recording consent",
            Step::ServiceProviderManagementConsent => "Allow management by service provider",
            Step::ManagementConsentUpdate => "Record management by service provider",
        }
    }

    /// The action type a Global Admin acts on for this step, if it is one of those.
    pub fn action(self) -> Option<ActionType> {
        Some(match self {
            Step::Registration => ActionType::Registration,
            Step::UserSyncConsent => ActionType::GetUserSyncConsent,
            Step::PresenceConsent => ActionType::GetPresenceConsent,
            Step::AgentConsent => ActionType::GetAgentConsent,
            Step::CallAppConsent => ActionType::GetCallAppConsent,
            Step::ContactsConsent => ActionType::GetContactsConsent,
            Step::CdrConsent => ActionType::GetCdrConsent,
            Step::CallRecordingConsent => ActionType::GetCallRecordingConsent,
            Step::ServiceProviderManagementConsent => {
                ActionType::GetServiceProviderManagementConsent
            }
            _ => return None,
        })
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl StepState {
    /// The snake_case name every binding uses.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Waiting => "waiting",
            StepState::Failed => "failed",
        }
    }
}

/// One line of [`Onboarding::status`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStatus {
    /// The step.
    pub step: Step,
    /// Its state.
    pub state: StepState,
    /// The result that matters (an id, a URL), why it was skipped, or what failed.
    pub detail: Option<String>,
    /// When the state last changed.
    pub updated_at: Option<SystemTime>,
    /// The error code of the last failure, for `failed`.
    pub error_code: Option<ErrorCode>,
}

/// Where `advance` stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Show `url` to the enterprise's Global Admin; the flow continues after the callback.
    AwaitingAdmin {
        /// What the admin is asked to do.
        action: ActionType,
        /// The action item URL.
        url: String,
    },
    /// Nothing can happen before `not_before` (the vendor's 30 minutes after enabling roles).
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
struct StepRecord {
    state: Option<StepState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_code: Option<ErrorCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Awaiting {
    step: Step,
    action: ActionType,
    url: String,
    /// The ask's nonce; `None` only in a version-1 flow, whose ask is made again.
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    issued_at: Option<u64>,
}

/// An ask that was answered: its nonce and the digest of the payload that answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Answered {
    nonce: String,
    digest: String,
}

/// A callback that passed every offline check and waits for the vendor to confirm its MSAL
/// result (`advance` does that first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Unconfirmed {
    step: Step,
    action: ActionType,
    auth: AuthenticationResult,
    tenant: String,
    who: String,
}

/// Why the last callback of a step was refused after the fact, shown by `status()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Refusal {
    step: Step,
    reason: String,
}

/// "Create sent": recorded (and checkpointed) before every create request, so that only this
/// flow settles a lost answer or a 409 by looking its own enterprise up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CreateMarker {
    /// The billing reference the create carries, which the enterprise list shows.
    reference: String,
    /// Creates sent so far.
    attempts: u32,
    /// When the first was sent.
    first_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FlowState {
    schema: u32,
    id: String,
    created_at: u64,
    plan: OnboardingPlan,
    #[serde(default)]
    gateways: Option<Vec<i64>>,
    #[serde(default)]
    pbx_ids: Option<Vec<i64>>,
    #[serde(default)]
    enterprise_id: Option<i64>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    contains_admin_api: Option<bool>,
    /// The latest MSAL result from the Global Admin: a secret the caller stores like a token.
    #[serde(default)]
    auth: Option<AuthenticationResult>,
    #[serde(default)]
    awaiting: Option<Awaiting>,
    #[serde(default)]
    not_before: Option<u64>,
    #[serde(default)]
    steps: BTreeMap<Step, StepRecord>,
    /// Rises with every change; portals save with compare-and-swap on it.
    #[serde(default)]
    revision: u64,
    /// Every ask that was answered, to tell a repeat (same payload) from a forgery.
    #[serde(default)]
    answered: Vec<Answered>,
    /// Digests of every MSAL access token accepted, so an old token never answers a new ask.
    #[serde(default)]
    seen_tokens: Vec<String>,
    #[serde(default)]
    unconfirmed: Option<Unconfirmed>,
    #[serde(default)]
    refused: Option<Refusal>,
    #[serde(default)]
    create: Option<CreateMarker>,
    /// The last failure, shown by `status()` while this value lives. Not persisted: the JSON holds
    /// only progress, so a failed call never changes what a caller stores.
    #[serde(skip)]
    failure: Option<(Step, StepRecord)>,
}

impl FlowState {
    /// Refuses values that would overflow or panic later: times past [`MAX_UNIX`], ids that are
    /// not positive, a revision past [`MAX_REVISION`].
    fn check_ranges(&self) -> Result<()> {
        let too_late = |what: &str, t: u64| {
            if t > MAX_UNIX {
                Err(Error::invalid_input(format!(
                    "flow JSON has {what} {t}, past the year 9999"
                )))
            } else {
                Ok(())
            }
        };
        too_late("created_at", self.created_at)?;
        if let Some(t) = self.not_before {
            too_late("not_before", t)?;
        }
        if let Some(t) = self.awaiting.as_ref().and_then(|a| a.issued_at) {
            too_late("awaiting.issued_at", t)?;
        }
        if let Some(m) = &self.create {
            too_late("create.first_at", m.first_at)?;
        }
        for (step, record) in &self.steps {
            if let Some(t) = record.at {
                too_late(&format!("steps.{}.at", step.name()), t)?;
            }
        }
        let positive = |what: &str, id: i64| {
            if id > 0 {
                Ok(())
            } else {
                Err(Error::invalid_input(format!(
                    "flow JSON has {what} {id}; ids are positive"
                )))
            }
        };
        if let Some(id) = self.enterprise_id {
            positive("enterprise_id", id)?;
        }
        for id in self.gateways.iter().flatten() {
            positive("gateways", *id)?;
        }
        for id in self.pbx_ids.iter().flatten() {
            positive("pbx_ids", *id)?;
        }
        if self.revision >= MAX_REVISION {
            return Err(Error::invalid_input(format!(
                "flow JSON has revision {}, beyond {MAX_REVISION}",
                self.revision
            )));
        }
        if let Some(auth) = &self.auth
            && let Some(on) = auth.expires_on
            && (on < 0 || on / 1_000_000 > MAX_UNIX as i64)
        {
            return Err(Error::invalid_input(format!(
                "flow JSON has an MSAL expiresOn of {on}, not a time this library can hold"
            )));
        }
        Ok(())
    }
}

/// One enterprise's onboarding. See the module docs.
///
/// Its JSON holds the Global Admin's latest MSAL result: store it as you would store a token.
#[derive(Debug, Clone, PartialEq)]
pub struct Onboarding {
    state: FlowState,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

enum Next {
    Continue,
    Stop(Progress),
}

impl Onboarding {
    /// A new flow for `plan`; `invalid_input` names what is wrong with the plan.
    pub fn new(plan: OnboardingPlan) -> Result<Onboarding> {
        plan.validate()?;
        Ok(Onboarding {
            state: FlowState {
                schema: SCHEMA_VERSION,
                id: uuid::Uuid::new_v4().to_string(),
                created_at: unix(SystemTime::now()),
                enterprise_id: plan.existing_enterprise_id,
                plan,
                gateways: None,
                pbx_ids: None,
                tenant_id: None,
                admin: None,
                contains_admin_api: None,
                auth: None,
                awaiting: None,
                not_before: None,
                steps: BTreeMap::new(),
                revision: 0,
                answered: Vec::new(),
                seen_tokens: Vec::new(),
                unconfirmed: None,
                refused: None,
                create: None,
                failure: None,
            },
        })
    }

    /// The flow's id (it is in every redirect URL the flow asks for).
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// The plan.
    pub fn plan(&self) -> &OnboardingPlan {
        &self.state.plan
    }

    /// The enterprise's id, once created (or given).
    pub fn enterprise_id(&self) -> Option<i64> {
        self.state.enterprise_id
    }

    /// The tenant bound at registration.
    pub fn tenant_id(&self) -> Option<&str> {
        self.state.tenant_id.as_deref()
    }

    /// The flow's revision: 0 when new, rising with every change (a step, an accepted callback).
    /// Save with compare-and-swap on it (`UPDATE flows SET json = ?, revision = ? WHERE id = ? AND
    /// revision = ?`): a writer whose row moved on reloads and applies its change again.
    pub fn revision(&self) -> u64 {
        self.state.revision
    }

    /// True while a callback was accepted and `advance` has yet to confirm it with ConnecttoTeams.
    pub fn has_unconfirmed_callback(&self) -> bool {
        self.state.unconfirmed.is_some()
    }

    /// True when every step is done or skipped.
    pub fn is_complete(&self) -> bool {
        self.next_step().is_none()
    }

    /// The flow as versioned JSON, to store in the caller's database. It holds the Global
    /// Admin's latest MSAL result: store it as you would store a token, or save
    /// [`to_json_without_tokens`](Self::to_json_without_tokens) instead.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(&self.state)
            .map_err(|e| Error::decode(format!("flow could not be serialized: {e}")))
    }

    /// The flow as JSON with no MSAL token in it: a flow loaded from it asks the Global Admin to
    /// sign in again (`LOGIN_ENTERPRISE_ADMIN`) when a step needs the admin's sign-in. A callback
    /// still awaiting confirmation is not kept (its tokens would be): `advance` right after
    /// `handle_callback`, before saving this way, or the ask is made again.
    pub fn to_json_without_tokens(&self) -> Result<String> {
        let mut state = self.state.clone();
        state.auth = None;
        if let Some(u) = state.unconfirmed.take()
            && let Some(record) = state.steps.get_mut(&u.step)
        {
            record.state = Some(StepState::Pending);
            record.detail = Some(
                "a callback was saved without its tokens before it was confirmed; asking again"
                    .into(),
            );
        }
        serde_json::to_string(&state)
            .map_err(|e| Error::decode(format!("flow could not be serialized: {e}")))
    }

    /// A flow from [`to_json`](Self::to_json)'s output. A newer schema than this library knows
    /// is refused (`invalid_input`), never misread.
    pub fn from_json(json: &str) -> Result<Onboarding> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid_input(format!("flow JSON is not JSON: {e}")))?;
        let schema = value
            .get("schema")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| {
                Error::invalid_input(
                    "flow JSON has no schema version: it is not an onboarding flow",
                )
            })?;
        if schema > u64::from(SCHEMA_VERSION) {
            return Err(Error::invalid_input(format!(
                "flow JSON has schema {schema}, newer than this library's {SCHEMA_VERSION}: upgrade ctt-onboard to read it"
            )));
        }
        let state: FlowState = serde_json::from_value(value)
            .map_err(|e| Error::invalid_input(format!("flow JSON is malformed: {e}")))?;
        if schema == 0 {
            return Err(Error::invalid_input(
                "flow JSON has schema 0, which never existed",
            ));
        }
        if state.id.trim().is_empty() {
            return Err(Error::invalid_input("flow JSON has an empty id"));
        }
        state.check_ranges()?;
        state.plan.validate()?;
        let mut state = state;
        state.schema = SCHEMA_VERSION;
        Ok(Onboarding { state })
    }

    /// Why a step does not apply, or `None` when it does.
    fn skip_reason(&self, step: Step) -> Option<String> {
        let plan = &self.state.plan;
        let existing = plan.existing_enterprise_id.is_some();
        match step {
            Step::SbcGateways | Step::PbxTypes if existing => {
                Some("the enterprise already exists".into())
            }
            Step::SbcGateways if !plan.enterprise.needs_gateways() => {
                Some("no calling service (PBX or Trunk) needs SBC gateways".into())
            }
            Step::PbxTypes if !plan.enterprise.needs_pbx_type() => {
                Some("neither PBX nor CALLAPP needs a PBX type".into())
            }
            Step::ProvisionTenantAdminApi
                if self.state.contains_admin_api == Some(true)
                    && self.record(step).state.is_none() =>
            {
                Some("the tenant already has the Teams Tenant Admin API".into())
            }
            Step::CallAppConsent if !plan.has(&Service::CallApp) => {
                Some("no CALLAPP service".into())
            }
            Step::ContactsConsent
                if !plan
                    .optional_consents
                    .contains(&ActionType::GetContactsConsent) =>
            {
                Some("not asked for in the plan".into())
            }
            Step::CdrConsent if !plan.optional_consents.contains(&ActionType::GetCdrConsent) => {
                Some("not asked for in the plan".into())
            }
            Step::CallRecordingConsent
                if !plan.has(&Service::CallRecording)
                    && !plan
                        .optional_consents
                        .contains(&ActionType::GetCallRecordingConsent) =>
            {
                Some("no CallRecording service, and not asked for in the plan".into())
            }
            Step::ServiceProviderManagementConsent | Step::ManagementConsentUpdate
                if !plan.service_provider_management =>
            {
                Some("service-provider management not asked for in the plan".into())
            }
            _ => None,
        }
    }

    fn record(&self, step: Step) -> StepRecord {
        self.state.steps.get(&step).cloned().unwrap_or_default()
    }

    /// The record `status()` shows: the last failure of the step, if it is the latest news.
    fn shown_record(&self, step: Step) -> StepRecord {
        match &self.state.failure {
            Some((failed, record)) if *failed == step => record.clone(),
            _ => self.record(step),
        }
    }

    fn is_finished(&self, step: Step) -> bool {
        matches!(
            self.record(step).state,
            Some(StepState::Done) | Some(StepState::Skipped)
        ) || self.skip_reason(step).is_some()
    }

    fn next_step(&self) -> Option<Step> {
        Step::ALL.into_iter().find(|s| !self.is_finished(*s))
    }

    /// Every step in the seed's order with its state.
    pub fn status(&self) -> Vec<StepStatus> {
        Step::ALL
            .into_iter()
            .map(|step| {
                let record = self.shown_record(step);
                let (state, detail) = match (record.state, self.skip_reason(step)) {
                    (Some(s @ (StepState::Done | StepState::Skipped)), _) => {
                        (s, record.detail.clone())
                    }
                    (_, Some(reason)) => (StepState::Skipped, Some(reason)),
                    (Some(s), None) => (s, record.detail.clone()),
                    (None, None) => (StepState::Pending, None),
                };
                let detail = match &self.state.refused {
                    Some(r) if r.step == step && !matches!(state, StepState::Done) => {
                        Some(match detail {
                            Some(d) => format!("{d}; the last callback was refused: {}", r.reason),
                            None => format!("the last callback was refused: {}", r.reason),
                        })
                    }
                    _ => detail,
                };
                StepStatus {
                    step,
                    state,
                    detail,
                    updated_at: record.at.map(from_unix),
                    error_code: if state == StepState::Failed {
                        record.error_code
                    } else {
                        None
                    },
                }
            })
            .collect()
    }

    /// What the last `advance` returned, computed from the state (no call is made).
    pub fn progress(&self) -> Option<Progress> {
        if let Some(a) = &self.state.awaiting {
            return Some(Progress::AwaitingAdmin {
                action: a.action.clone(),
                url: a.url.clone(),
            });
        }
        if let Some(nb) = self.state.not_before {
            return Some(Progress::WaitingUntil {
                not_before: from_unix(nb),
                reason: roles_reason(),
            });
        }
        match (
            self.is_complete(),
            self.state.enterprise_id,
            &self.state.tenant_id,
        ) {
            (true, Some(enterprise_id), Some(tenant_id)) => Some(Progress::Complete {
                enterprise_id,
                tenant_id: tenant_id.clone(),
            }),
            _ => None,
        }
    }

    /// Marks a change: every persisted change goes through here, so the revision rises with each.
    fn bump(&mut self) {
        self.state.revision = (self.state.revision + 1).min(MAX_REVISION);
    }

    fn set(&mut self, step: Step, state: StepState, detail: Option<String>, now: SystemTime) {
        if self.state.failure.as_ref().is_some_and(|(s, _)| *s == step) {
            self.state.failure = None;
        }
        self.bump();
        self.state.steps.insert(
            step,
            StepRecord {
                state: Some(state),
                detail,
                at: Some(unix(now)),
                error_code: None,
            },
        );
    }

    fn fail(&mut self, step: Step, error: &Error, now: SystemTime) {
        self.state.failure = Some((
            step,
            StepRecord {
                state: Some(StepState::Failed),
                detail: Some(error.to_string()),
                at: Some(unix(now)),
                error_code: Some(error.code()),
            },
        ));
    }

    /// Performs every API step it can, in the seed's order, and stops where the flow needs a
    /// person or time. Each step's result is written into the state before the next starts.
    /// The same as [`advance_with_checkpoint`](Self::advance_with_checkpoint) with no checkpoint.
    pub async fn advance(&mut self, client: &Client) -> Result<Progress> {
        self.advance_with_checkpoint(client, &mut NoCheckpoint)
            .await
    }

    /// Performs every API step it can, in the seed's order, and stops where the flow needs a
    /// person or time. Each step's result is written into the state before the next starts, and
    /// `checkpoint` is called with the flow after every step that changed it and before the one
    /// request that must not be repeated (the create): when it fails, `advance` returns its error
    /// before sending. A callback accepted by `handle_callback` is confirmed with ConnecttoTeams
    /// first.
    ///
    /// Errors: `invalid_input` when the client has no callback key or the plan names a gateway,
    /// region or PBX type the lists do not offer (before anything is created); `authentication`
    /// when the enterprise-level credentials the provisioning calls need are not configured (state
    /// unchanged); `conflict` when the enterprise name belongs to an enterprise this flow did not
    /// create; the checkpoint's error; any client error of the step in flight (recorded as
    /// `failed`; `advance` again retries it).
    pub async fn advance_with_checkpoint(
        &mut self,
        client: &Client,
        checkpoint: &mut dyn Checkpoint,
    ) -> Result<Progress> {
        let Some(keys) = client.callback_keys().cloned() else {
            return Err(Error::invalid_input(
                "the client has no callback key: set it on the client builder (callback_key) so the flow can tag its redirect URLs",
            ));
        };
        let mut saved = self.state.revision;
        loop {
            let outcome = self
                .advance_once(client, &keys, checkpoint, &mut saved)
                .await;
            if self.state.revision != saved {
                let save = checkpoint.save(self, saved).await;
                if save.is_ok() {
                    saved = self.state.revision;
                }
                match (&outcome, save) {
                    (Err(_), Err(e)) => {
                        tracing::warn!(code = %e.code(), "the checkpoint failed after a failed step");
                    }
                    (_, Err(e)) => return Err(e),
                    _ => {}
                }
            }
            match outcome? {
                Next::Continue => continue,
                Next::Stop(progress) => return Ok(progress),
            }
        }
    }

    async fn advance_once(
        &mut self,
        client: &Client,
        keys: &CallbackKeys,
        checkpoint: &mut dyn Checkpoint,
        saved: &mut u64,
    ) -> Result<Next> {
        if self.state.unconfirmed.is_some() {
            return self.confirm(client).await;
        }
        if let Some(a) = self.state.awaiting.clone() {
            let expired = match (a.nonce.as_ref(), a.issued_at) {
                (Some(_), Some(at)) => {
                    unix(keys.now()).saturating_sub(at) > keys.max_age().as_secs()
                }
                _ => true,
            };
            if !expired {
                return Ok(Next::Stop(Progress::AwaitingAdmin {
                    action: a.action,
                    url: a.url,
                }));
            }
            tracing::info!(action = %a.action, "the ask's URL expired (or predates nonces); asking again");
            return self.ask_admin(a.step, a.action, client).await;
        }
        let Some(step) = self.next_step() else {
            return self.complete().map(Next::Stop);
        };
        self.run(step, client, checkpoint, saved).await
    }

    fn complete(&self) -> Result<Progress> {
        match (self.state.enterprise_id, &self.state.tenant_id) {
            (Some(enterprise_id), Some(tenant_id)) => Ok(Progress::Complete {
                enterprise_id,
                tenant_id: tenant_id.clone(),
            }),
            _ => Err(Error::flow_state(
                "every step is finished but the enterprise or tenant id is missing",
            )),
        }
    }

    async fn run(
        &mut self,
        step: Step,
        client: &Client,
        checkpoint: &mut dyn Checkpoint,
        saved: &mut u64,
    ) -> Result<Next> {
        let now = client.clock().now();
        match step {
            Step::SbcGateways => self.step_gateways(client).await,
            Step::PbxTypes => self.step_pbx_types(client).await,
            Step::CreateEnterprise => self.step_create(client, checkpoint, saved).await,
            Step::EnterpriseCredentials => {
                if !client.has_enterprise_auth() {
                    return Err(Error::new(
                        ErrorCode::Authentication,
                        "the tenant admin API steps need enterprise-level API credentials: configure enterprise credentials or an enterprise token on the client (\"Generate API Credentials for Your Tenant\"), then advance again",
                    ));
                }
                self.set(
                    step,
                    StepState::Done,
                    Some("enterprise-level credentials configured".into()),
                    now,
                );
                Ok(Next::Continue)
            }
            Step::TenantAdminApiCheck => self.step_admin_api_check(client).await,
            Step::ProvisionTenantAdminApi => self.step_provision(client).await,
            Step::ManagementConsentUpdate => self.step_management_update(client).await,
            _ => match step.action() {
                Some(action) => self.ask_admin(step, action, client).await,
                None => Err(Error::flow_state(format!(
                    "step {} has no runner",
                    step.name()
                ))),
            },
        }
    }

    async fn step_gateways(&mut self, client: &Client) -> Result<Next> {
        let step = Step::SbcGateways;
        let rid = client.reseller_id().await?;
        let list = match client.sbc_gateways(rid).await {
            Ok(l) => l,
            Err(e) => {
                self.fail(step, &e, client.clock().now());
                return Err(e);
            }
        };
        let plan = &self.state.plan;
        let chosen: Vec<i64> = if plan.enterprise.sbc_gateways.is_empty() {
            let mut ids = Vec::new();
            for region in plan.gateway_regions.iter().filter(|r| !r.trim().is_empty()) {
                let found: Vec<i64> = list
                    .iter()
                    .filter(|g| g.sbc_gateway_region.eq_ignore_ascii_case(region.trim()))
                    .map(|g| g.sbc_gateway_id)
                    .collect();
                if found.is_empty() {
                    let offered: Vec<&str> =
                        list.iter().map(|g| g.sbc_gateway_region.as_str()).collect();
                    return Err(Error::invalid_input(format!(
                        "gateway_regions: region {region:?} is not offered to this reseller (offered: {})",
                        offered.join(", ")
                    )));
                }
                ids.extend(found);
            }
            ids.dedup();
            ids
        } else {
            for id in &plan.enterprise.sbc_gateways {
                if !list.iter().any(|g| g.sbc_gateway_id == *id) {
                    return Err(Error::invalid_input(format!(
                        "sbcGateways: gateway {id} is not offered to this reseller"
                    )));
                }
            }
            plan.enterprise.sbc_gateways.clone()
        };
        let detail = format!("gateways {}", join_ids(&chosen));
        self.state.gateways = Some(chosen);
        self.set(step, StepState::Done, Some(detail), client.clock().now());
        Ok(Next::Continue)
    }

    async fn step_pbx_types(&mut self, client: &Client) -> Result<Next> {
        let step = Step::PbxTypes;
        let rid = client.reseller_id().await?;
        let list = match client.pbx_types(rid).await {
            Ok(l) => l,
            Err(e) => {
                self.fail(step, &e, client.clock().now());
                return Err(e);
            }
        };
        let given = &self.state.plan.enterprise.pbx_id;
        let chosen: Vec<i64> = if given.is_empty() {
            match list.iter().find(|p| p.is_default && !p.is_disabled) {
                Some(p) => vec![p.id],
                None => {
                    return Err(Error::invalid_input(
                        "pbxId: none given and the reseller has no default PBX type; give pbx ids in the plan",
                    ));
                }
            }
        } else {
            for id in given {
                match list.iter().find(|p| p.id == *id) {
                    None => {
                        return Err(Error::invalid_input(format!(
                            "pbxId: PBX type {id} is not offered to this reseller"
                        )));
                    }
                    Some(p) if p.is_disabled => {
                        return Err(Error::invalid_input(format!(
                            "pbxId: PBX type {id} is disabled"
                        )));
                    }
                    Some(_) => {}
                }
            }
            given.clone()
        };
        let detail = format!("PBX types {}", join_ids(&chosen));
        self.state.pbx_ids = Some(chosen);
        self.set(step, StepState::Done, Some(detail), client.clock().now());
        Ok(Next::Continue)
    }

    /// A valid MSAL result, or a stop that asks the admin to sign in again.
    async fn fresh_auth(
        &mut self,
        step: Step,
        client: &Client,
    ) -> Result<std::result::Result<AuthenticationResult, Next>> {
        let now = client.clock().now();
        match &self.state.auth {
            Some(auth) if !auth.is_expired(now, MSAL_EXPIRY_MARGIN) => Ok(Ok(auth.clone())),
            _ => self
                .ask_admin(step, ActionType::LoginEnterpriseAdmin, client)
                .await
                .map(Err),
        }
    }

    async fn step_admin_api_check(&mut self, client: &Client) -> Result<Next> {
        let step = Step::TenantAdminApiCheck;
        if self.state.contains_admin_api == Some(true)
            && self.record(Step::ProvisionTenantAdminApi).state.is_none()
        {
            self.set(
                step,
                StepState::Done,
                Some("present (getO365UserInfo, confirming the registration)".into()),
                client.clock().now(),
            );
            return Ok(Next::Continue);
        }
        if self.state.contains_admin_api == Some(false)
            && self.record(Step::ProvisionTenantAdminApi).state.is_none()
        {
            // The callback already said no: provisioning comes next, then this check runs again.
            self.set(
                step,
                StepState::Waiting,
                Some("absent (getO365UserInfo, confirming the registration); provisioning".into()),
                client.clock().now(),
            );
            return self.step_provision(client).await;
        }
        let auth = match self.fresh_auth(step, client).await? {
            Ok(a) => a,
            Err(next) => return Ok(next),
        };
        match client.o365_user_info(&auth).await {
            Ok(info) if info.contains_teams_tenant_admin_api => {
                self.state.contains_admin_api = Some(true);
                self.set(
                    step,
                    StepState::Done,
                    Some("present (getO365UserInfo)".into()),
                    client.clock().now(),
                );
                Ok(Next::Continue)
            }
            Ok(_) => {
                self.state.contains_admin_api = Some(false);
                if self.record(Step::ProvisionTenantAdminApi).state == Some(StepState::Done) {
                    let e = Error::new(
                        ErrorCode::Api,
                        "the Teams Tenant Admin API is still absent after provisionTenantAdminAPI; advance again later",
                    );
                    self.fail(step, &e, client.clock().now());
                    return Err(e);
                }
                self.set(
                    step,
                    StepState::Waiting,
                    Some("absent (getO365UserInfo); provisioning".into()),
                    client.clock().now(),
                );
                self.step_provision(client).await
            }
            Err(e) => self.after_msal_failure(step, client, e).await,
        }
    }

    async fn step_provision(&mut self, client: &Client) -> Result<Next> {
        let step = Step::ProvisionTenantAdminApi;
        let auth = match self.fresh_auth(step, client).await? {
            Ok(a) => a,
            Err(next) => return Ok(next),
        };
        if let Err(e) = client.provision_tenant_admin_api(&auth).await {
            return self.after_msal_failure(step, client, e).await;
        }
        let now = client.clock().now();
        self.set(
            step,
            StepState::Done,
            Some("provisionTenantAdminAPI called".into()),
            now,
        );
        // Check again: the check step is pending once more.
        self.state.steps.remove(&Step::TenantAdminApiCheck);
        self.state.contains_admin_api = None;
        Ok(Next::Continue)
    }

    async fn step_management_update(&mut self, client: &Client) -> Result<Next> {
        let step = Step::ManagementConsentUpdate;
        let now = client.clock().now();
        if let Some(nb) = self.state.not_before {
            if unix(now) < nb {
                return Ok(Next::Stop(Progress::WaitingUntil {
                    not_before: from_unix(nb),
                    reason: roles_reason(),
                }));
            }
            // The wait is over: ask for the consent again, then record it.
            self.state.not_before = None;
            self.state
                .steps
                .remove(&Step::ServiceProviderManagementConsent);
            self.set(
                step,
                StepState::Pending,
                Some("30 minutes passed; asking for the consent again".into()),
                now,
            );
            return Ok(Next::Continue);
        }
        let auth = match self.fresh_auth(step, client).await? {
            Ok(a) => a,
            Err(next) => return Ok(next),
        };
        let rid = client.reseller_id().await?;
        let tenant = self.state.tenant_id.clone().ok_or_else(|| {
            Error::flow_state("no tenant is bound; the registration step must come first")
        })?;
        match client.update_management_consent(&auth, rid, &tenant).await {
            Ok(()) => {
                self.set(
                    step,
                    StepState::Done,
                    Some(format!("management by reseller {rid} recorded")),
                    client.clock().now(),
                );
                Ok(Next::Continue)
            }
            Err(e) if e.code() == ErrorCode::TenantRolesMissing => {
                if let Err(p) = client.provision_tenant_admin_api(&auth).await {
                    return self.after_msal_failure(step, client, p).await;
                }
                let now = client.clock().now();
                let not_before = now + ROLES_WAIT;
                self.state.not_before = Some(unix(not_before));
                self.set(step, StepState::Waiting, Some(roles_reason()), now);
                Ok(Next::Stop(Progress::WaitingUntil {
                    not_before: from_unix(unix(not_before)),
                    reason: roles_reason(),
                }))
            }
            Err(e) => self.after_msal_failure(step, client, e).await,
        }
    }

    /// A call that carried the MSAL result failed. When that result has expired by now (the API
    /// may see expiry before this clock does), the admin is asked to sign in again instead;
    /// otherwise the failure is recorded and returned.
    async fn after_msal_failure(
        &mut self,
        step: Step,
        client: &Client,
        error: Error,
    ) -> Result<Next> {
        let now = client.clock().now();
        // The API may see expiry before this clock does, and a result without `expiresOn` can only
        // be judged by the API: either way a refusal means a fresh sign-in, not a stuck flow.
        let expired = self
            .state
            .auth
            .as_ref()
            .is_none_or(|a| a.is_expired(now, MSAL_EXPIRY_MARGIN) || a.expires_on.is_none())
            || error.message().to_ascii_lowercase().contains("expired");
        if expired
            && matches!(
                error.code(),
                ErrorCode::InvalidInput | ErrorCode::Authentication | ErrorCode::Forbidden
            )
        {
            tracing::info!(
                step = step.name(),
                "the MSAL result expired; asking the admin to sign in again"
            );
            return self
                .ask_admin(step, ActionType::LoginEnterpriseAdmin, client)
                .await;
        }
        self.fail(step, &error, now);
        Err(error)
    }

    /// Asks for an action item URL with a freshly tagged redirect URL (a new nonce) and stops
    /// until the admin's callback arrives.
    async fn ask_admin(&mut self, step: Step, action: ActionType, client: &Client) -> Result<Next> {
        let keys = client
            .callback_keys()
            .ok_or_else(|| Error::invalid_input("the client has no callback key"))?
            .clone();
        let ask = Ask {
            flow_id: self.state.id.clone(),
            action: action.clone(),
            nonce: callback::new_nonce(),
            issued_at: unix(keys.now()),
            key_id: keys.signing_key_id().to_owned(),
        };
        let redirect = callback::tag_redirect_url(&keys, &self.state.plan.redirect_url, &ask)?;
        let name = self.state.plan.enterprise.enterprise_name.clone();
        let url = match client.action_item_url(&action, &name, &redirect).await {
            Ok(u) => u,
            Err(e) => {
                self.fail(step, &e, client.clock().now());
                return Err(e);
            }
        };
        self.state.awaiting = Some(Awaiting {
            step,
            action: action.clone(),
            url: url.clone(),
            nonce: Some(ask.nonce),
            issued_at: Some(ask.issued_at),
        });
        self.set(
            step,
            StepState::Waiting,
            Some(format!("waiting for the Global Admin ({action})")),
            client.clock().now(),
        );
        Ok(Next::Stop(Progress::AwaitingAdmin { action, url }))
    }
}

fn roles_reason() -> String {
    "the tenant's Teams/Skype Administrator roles were missing: provisionTenantAdminAPI was called, and the vendor asks to retry the consent no sooner than 30 minutes later".into()
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(services: Vec<Service>) -> OnboardingPlan {
        let mut p = OnboardingPlan::new(
            NewEnterprise::new("Acme", services),
            "https://portal.example/cb",
        );
        p.gateway_regions = vec!["US-East".into()];
        p
    }

    #[test]
    fn plans_are_validated_naming_the_field() {
        let mut p = plan(vec![Service::Pbx]);
        p.gateway_regions.clear();
        assert!(
            Onboarding::new(p)
                .expect_err("no gateways")
                .message()
                .contains("sbcGateways")
        );
        let mut p = plan(vec![Service::Sms]);
        p.redirect_url = "http://portal.example/cb".into();
        assert!(
            Onboarding::new(p)
                .expect_err("http")
                .message()
                .contains("redirect_url")
        );
        let mut p = plan(vec![Service::Sms]);
        p.optional_consents = vec![ActionType::GetAgentConsent];
        assert!(
            Onboarding::new(p)
                .expect_err("not optional")
                .message()
                .contains("optional_consents")
        );
        let mut p = plan(vec![Service::Sms]);
        p.redirect_url = "https://portal.example/cb?ctt_flow=x".into();
        assert!(Onboarding::new(p).is_err());
        assert!(Onboarding::new(plan(vec![Service::Pbx, Service::CallApp])).is_ok());
    }

    #[test]
    fn status_lists_every_step_with_skips() {
        let flow = Onboarding::new(plan(vec![Service::Sms, Service::Chat])).expect("flow");
        let status = flow.status();
        assert_eq!(status.len(), Step::ALL.len());
        let state = |s: Step| status.iter().find(|x| x.step == s).map(|x| x.state);
        assert_eq!(state(Step::SbcGateways), Some(StepState::Skipped));
        assert_eq!(state(Step::PbxTypes), Some(StepState::Skipped));
        assert_eq!(state(Step::CreateEnterprise), Some(StepState::Pending));
        assert_eq!(state(Step::CallAppConsent), Some(StepState::Skipped));
        assert_eq!(state(Step::PresenceConsent), Some(StepState::Pending));
        assert_eq!(
            state(Step::ManagementConsentUpdate),
            Some(StepState::Pending)
        );
    }

    #[test]
    fn json_round_trips_and_refuses_newer_schemas() {
        let flow = Onboarding::new(plan(vec![Service::Trunk])).expect("flow");
        let json = flow.to_json().expect("json");
        assert_eq!(Onboarding::from_json(&json).expect("back"), flow);
        let newer = json.replacen("\"schema\":2", "\"schema\":3", 1);
        let e = Onboarding::from_json(&newer).expect_err("newer");
        assert!(e.message().contains("schema 3"), "{e}");
        let older = json.replacen("\"schema\":2", "\"schema\":1", 1);
        assert_eq!(
            Onboarding::from_json(&older)
                .expect("version 1 is read")
                .to_json()
                .expect("json"),
            json,
            "and written back as version 2"
        );
        assert!(Onboarding::from_json("{}").is_err());
        assert!(Onboarding::from_json("nope").is_err());
    }
}
