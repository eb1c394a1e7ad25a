//! Which steps apply to the plan, how each stands, and how a step's result is recorded.

use super::advance::roles_reason;
use super::{
    MAX_REVISION, Onboarding, Progress, Step, StepRecord, StepState, StepStatus, from_unix, unix,
};
use crate::error::Error;
use crate::models::{ActionType, Service};
use std::time::SystemTime;

impl Onboarding {
    /// Why a step does not apply, or `None` when it does.
    pub(super) fn skip_reason(&self, step: Step) -> Option<String> {
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

    pub(super) fn record(&self, step: Step) -> StepRecord {
        self.state.steps.get(&step).cloned().unwrap_or_default()
    }

    /// The record `status()` shows: the last failure of the step, if it is the latest news.
    pub(super) fn shown_record(&self, step: Step) -> StepRecord {
        match &self.state.failure {
            Some((failed, record)) if *failed == step => record.clone(),
            _ => self.record(step),
        }
    }

    pub(super) fn is_finished(&self, step: Step) -> bool {
        matches!(
            self.record(step).state,
            Some(StepState::Done) | Some(StepState::Skipped)
        ) || self.skip_reason(step).is_some()
    }

    pub(super) fn next_step(&self) -> Option<Step> {
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
                    title: step.title().to_owned(),
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
    pub(super) fn bump(&mut self) {
        self.state.revision = (self.state.revision + 1).min(MAX_REVISION);
    }

    pub(super) fn set(
        &mut self,
        step: Step,
        state: StepState,
        detail: Option<String>,
        now: SystemTime,
    ) {
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

    pub(super) fn fail(&mut self, step: Step, error: &Error, now: SystemTime) {
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
}
