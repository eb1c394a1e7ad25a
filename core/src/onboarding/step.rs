//! The steps of the vendor's sequence, their states, and what `advance` reports.
//!
//! These are the flow's public vocabulary: every binding shows the same step names and states.

use crate::error::ErrorCode;
use crate::models::ActionType;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// One step of the vendor's sequence, in the seed's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// One line of [`Onboarding::status`](super::Onboarding::status). Serialized (for the bindings)
/// with camelCase names and `updatedAt` in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepStatus {
    /// The step (its snake_case name, such as `create_enterprise`).
    pub step: Step,
    /// The step's title for people, as a portal's checklist shows it.
    pub title: String,
    /// Its state.
    pub state: StepState,
    /// The result that matters (an id, a URL), why it was skipped, or what failed.
    pub detail: Option<String>,
    /// When the state last changed.
    #[serde(with = "crate::wire_time::option_unix_ms")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub updated_at: Option<SystemTime>,
    /// The error code of the last failure, for `failed`.
    pub error_code: Option<ErrorCode>,
}

/// Where `advance` stopped. Serialized (for the bindings) as an object whose `kind` is
/// `awaitingAdmin`, `waitingUntil` or `complete`, with camelCase fields and `notBefore` in
/// milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
        #[serde(with = "crate::wire_time::unix_ms")]
        #[cfg_attr(feature = "schema", schemars(with = "u64"))]
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
