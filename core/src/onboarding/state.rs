//! The flow's persisted state: what its versioned JSON holds, and the ranges it must keep.
//!
//! A flow's JSON comes back from the caller's database, possibly written by an older or a
//! tampered copy, so every value read is checked here once before any step trusts it.

use super::{MAX_REVISION, MAX_UNIX, OnboardingPlan, Step, StepState};
use crate::error::{Error, ErrorCode, Result};
use crate::models::{ActionType, AuthenticationResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub(super) struct StepRecord {
    pub(super) state: Option<StepState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) error_code: Option<ErrorCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Awaiting {
    pub(super) step: Step,
    pub(super) action: ActionType,
    pub(super) url: String,
    /// The ask's nonce; `None` only in a version-1 flow, whose ask is made again.
    #[serde(default)]
    pub(super) nonce: Option<String>,
    #[serde(default)]
    pub(super) issued_at: Option<u64>,
}

/// An ask that was answered: its nonce and the digest of the payload that answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Answered {
    pub(super) nonce: String,
    pub(super) digest: String,
}

/// A callback that passed every offline check and waits for the vendor to confirm its MSAL
/// result (`advance` does that first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Unconfirmed {
    pub(super) step: Step,
    pub(super) action: ActionType,
    pub(super) auth: AuthenticationResult,
    pub(super) tenant: String,
    pub(super) who: String,
}

/// Why the last callback of a step was refused after the fact, shown by `status()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Refusal {
    pub(super) step: Step,
    pub(super) reason: String,
}

/// "Create sent": recorded (and checkpointed) before every create request, so that only this
/// flow settles a lost answer or a 409 by looking its own enterprise up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CreateMarker {
    /// The billing reference the create carries, which the enterprise list shows.
    pub(super) reference: String,
    /// Creates sent so far.
    pub(super) attempts: u32,
    /// When the first was sent.
    pub(super) first_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct FlowState {
    pub(super) schema: u32,
    pub(super) id: String,
    pub(super) created_at: u64,
    pub(super) plan: OnboardingPlan,
    #[serde(default)]
    pub(super) gateways: Option<Vec<i64>>,
    #[serde(default)]
    pub(super) pbx_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub(super) enterprise_id: Option<i64>,
    #[serde(default)]
    pub(super) tenant_id: Option<String>,
    #[serde(default)]
    pub(super) admin: Option<String>,
    #[serde(default)]
    pub(super) contains_admin_api: Option<bool>,
    /// The latest MSAL result from the Global Admin: a secret the caller stores like a token.
    #[serde(default)]
    pub(super) auth: Option<AuthenticationResult>,
    #[serde(default)]
    pub(super) awaiting: Option<Awaiting>,
    #[serde(default)]
    pub(super) not_before: Option<u64>,
    #[serde(default)]
    pub(super) steps: BTreeMap<Step, StepRecord>,
    /// Rises with every change; portals save with compare-and-swap on it.
    #[serde(default)]
    pub(super) revision: u64,
    /// Every ask that was answered, to tell a repeat (same payload) from a forgery.
    #[serde(default)]
    pub(super) answered: Vec<Answered>,
    /// Digests of every MSAL access token accepted, so an old token never answers a new ask.
    #[serde(default)]
    pub(super) seen_tokens: Vec<String>,
    #[serde(default)]
    pub(super) unconfirmed: Option<Unconfirmed>,
    #[serde(default)]
    pub(super) refused: Option<Refusal>,
    #[serde(default)]
    pub(super) create: Option<CreateMarker>,
    /// The last failure, shown by `status()` while this value lives. Not persisted: the JSON holds
    /// only progress, so a failed call never changes what a caller stores.
    #[serde(skip)]
    pub(super) failure: Option<(Step, StepRecord)>,
}

impl FlowState {
    /// Refuses values that would overflow or panic later: times past [`MAX_UNIX`], ids that are
    /// not positive, a revision past [`MAX_REVISION`].
    pub(super) fn check_ranges(&self) -> Result<()> {
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
