//! The onboarding as a resumable state machine: Parts I to III of the vendor's guide as data.
//!
//! The flow spans days and people: a Global Admin clicks links in between, a portal restarts, a
//! worker is killed mid-request. So the flow is not a running task but a value: [`Onboarding`]
//! holds the plan and what every step has produced, serializes to versioned JSON, and
//! [`Onboarding::advance`] performs every API step it can, writing each result into the state
//! before the next step starts. Calling it again repeats nothing that succeeded; dropping it
//! mid-call loses at most the step in flight, and the one step that is not idempotent (the
//! create) settles a repeat by finding the enterprise it made.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod accept;
mod advance;
mod checkpoint;
mod create;
mod handle;
mod plan;
mod state;
mod status;
mod step;

pub use accept::CallbackOutcome;
use advance::Next;
pub use checkpoint::{Checkpoint, NoCheckpoint};
pub use handle::FlowHandle;
pub use plan::OnboardingPlan;
use state::{Answered, Awaiting, CreateMarker, FlowState, Refusal, StepRecord, Unconfirmed};
pub use step::{Progress, Step, StepState, StepStatus};

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
}

/// A one-line summary that holds no secret, for logs and the hosts' `toString`:
/// `Onboarding(id=…, enterprise="…", enterpriseId=…, complete=…)`.
impl std::fmt::Display for Onboarding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Onboarding(id={}, enterprise={:?}, enterpriseId={:?}, complete={})",
            self.id(),
            self.plan().enterprise.enterprise_name,
            self.enterprise_id(),
            self.is_complete()
        )
    }
}

#[cfg(test)]
mod tests;
