//! Drivers shared by the soaks: run one onboarding to completion as a simulated Global Admin,
//! however often calls fail, and check the simulator afterwards for anything lost or doubled.
//!
//! Providers run this library against real tenants, where a duplicate enterprise or a consent
//! recorded twice is a support case. The soaks make those failures likely (faults, crashes) and
//! count them; these helpers are the counting.

use ctt_onboard::{
    Client, ErrorCode, ManualClock, NewEnterprise, Onboarding, OnboardingPlan, Progress, Service,
};
use ctt_sim::Simulator;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The callback key every soak flow uses.
pub const CALLBACK_KEY: &str = "soak-callback-key-0123456789abcdef";

/// The service sets the soaks cycle through, one for each branch of Part I and III.
pub fn service_set(i: usize) -> Vec<Service> {
    match i % 5 {
        0 => vec![Service::Pbx, Service::Sms],
        1 => vec![Service::Trunk],
        2 => vec![Service::Pbx, Service::CallApp],
        3 => vec![Service::Sms, Service::Chat],
        _ => vec![Service::Trunk, Service::CallRecording],
    }
}

/// The base tenants the soaks cycle through (tailspin's admin can never finish a flow).
pub const SOAK_TENANTS: [&str; 3] = ["contoso", "fabrikam", "northwind"];

/// True when soak flow `i` shares its enterprise name with flow `i - 1` (every tenth flow): two
/// customers called the same, of which exactly one may get the enterprise.
pub fn is_twin(i: usize) -> bool {
    i % 10 == 9
}

/// The enterprise name of soak flow `i`.
pub fn soak_name(run: &str, i: usize) -> String {
    let n = if is_twin(i) { i - 1 } else { i };
    format!("Soak {run} #{n}")
}

/// The plan of soak flow `i`: its own enterprise name (but for twins, see [`is_twin`]), in its
/// own tenant variant.
pub fn soak_plan(run: &str, i: usize) -> (OnboardingPlan, String) {
    let mut plan = OnboardingPlan::new(
        NewEnterprise::new(soak_name(run, i), service_set(i)),
        "https://portal.example/ctt/callback",
    );
    plan.gateway_regions = vec![
        if i.is_multiple_of(2) {
            "US-East"
        } else {
            "EU-West"
        }
        .into(),
    ];
    (plan, format!("{}+{run}-{i}", SOAK_TENANTS[i % 3]))
}

/// What one flow went through.
#[derive(Debug, Default, Clone)]
pub struct FlowReport {
    /// The flow's id.
    pub flow_id: String,
    /// True when the flow reached `Complete`.
    pub complete: bool,
    /// True when the flow stopped with `conflict`: its name belongs to another flow's enterprise.
    pub conflict: bool,
    /// The enterprise id, once known.
    pub enterprise_id: Option<i64>,
    /// Errors `advance` surfaced, by code.
    pub errors: BTreeMap<String, u64>,
    /// Errors that must never happen here (caller input, flow state, callbacks refused).
    pub unexpected: Vec<String>,
}

/// Drives one flow to completion as `tenant`'s admin, retrying `advance` after every error.
/// `clock` is the client's clock, moved with the simulator's across the 30-minute wait. With
/// `twin`, a `conflict` ends the flow as an expected outcome (see [`is_twin`]); otherwise it is
/// unexpected.
pub async fn drive(
    client: &Client,
    sim: &Simulator,
    clock: &ManualClock,
    mut flow: Onboarding,
    tenant: &str,
    twin: bool,
) -> FlowReport {
    let mut report = FlowReport {
        flow_id: flow.id().to_owned(),
        ..FlowReport::default()
    };
    let Some(keys) = client.callback_keys() else {
        report
            .unexpected
            .push("the soak client has no callback key".into());
        return report;
    };
    for _ in 0..400 {
        match flow.advance(client).await {
            Ok(Progress::AwaitingAdmin { url, .. }) => {
                let callback = match sim.approve_without_posting(&url, tenant) {
                    Ok(c) => c,
                    Err(e) => {
                        report.unexpected.push(format!("approve: {e}"));
                        return report;
                    }
                };
                if let Err(e) =
                    flow.handle_callback(keys, &callback.url, &callback.body.to_string())
                {
                    report.unexpected.push(format!("callback refused: {e}"));
                    return report;
                }
            }
            Ok(Progress::WaitingUntil { not_before, .. }) => {
                let now = client.clock().now();
                if let Ok(wait) = not_before.duration_since(now) {
                    let step = wait + Duration::from_secs(1);
                    clock.advance(step);
                    sim.advance_clock(step);
                }
            }
            Ok(Progress::Complete { enterprise_id, .. }) => {
                report.complete = true;
                report.enterprise_id = Some(enterprise_id);
                return report;
            }
            Err(e) => {
                *report
                    .errors
                    .entry(e.code().as_str().to_owned())
                    .or_default() += 1;
                if twin && e.code() == ErrorCode::Conflict {
                    report.conflict = true;
                    report.enterprise_id = flow.enterprise_id();
                    return report;
                }
                if matches!(
                    e.code(),
                    ErrorCode::InvalidInput | ErrorCode::FlowState | ErrorCode::CallbackInvalid
                ) {
                    report.unexpected.push(e.to_string());
                    return report;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        report.enterprise_id = flow.enterprise_id();
    }
    report
}

/// What the simulator holds for a set of flows: enterprises per name and consents per enterprise.
#[derive(Debug, Default)]
pub struct Census {
    /// Enterprises whose name appears more than once.
    pub duplicate_enterprises: usize,
    /// Flow names with no enterprise.
    pub missing_enterprises: usize,
    /// (enterprise, action) pairs granted more than once, except the management consent that
    /// northwind tenants are rightly asked for again after the roles wait.
    pub consents_doubled: usize,
    /// Enterprises of complete flows not managed by the provider.
    pub not_managed: usize,
    /// Consents in all.
    pub consents: usize,
}

/// Counts what the simulator holds for enterprises named `names`.
pub fn census(sim: &Simulator, names: &[String]) -> Census {
    let enterprises = sim.enterprises();
    let consents = sim.consents();
    let mut census = Census::default();
    for name in names {
        let matching: Vec<_> = enterprises.iter().filter(|e| &e.name == name).collect();
        match matching.len() {
            0 => census.missing_enterprises += 1,
            1 => {}
            _ => census.duplicate_enterprises += 1,
        }
        for e in matching {
            if !e.managed_by_provider {
                census.not_managed += 1;
            }
            let mut per_action: BTreeMap<&str, usize> = BTreeMap::new();
            for c in consents.iter().filter(|c| c.enterprise_id == e.id) {
                *per_action.entry(c.action.as_str()).or_default() += 1;
                census.consents += 1;
            }
            let northwind = e
                .tenant_id
                .as_deref()
                .is_some_and(|t| t.starts_with("6ec0bd7f"));
            for (action, n) in per_action {
                let allowed = if northwind && action == "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT" {
                    2
                } else {
                    1
                };
                if n > allowed {
                    census.consents_doubled += 1;
                }
            }
        }
    }
    census
}

/// What the simulator holds per flow id: the enterprise each flow's billing reference marks.
#[derive(Debug, Default)]
pub struct FlowCensus {
    /// Enterprises that two or more flows report as theirs.
    pub shared_enterprises: usize,
    /// Complete flows whose enterprise does not carry their reference, or more than one does.
    pub misattributed: usize,
    /// Flows that ended in `conflict` but whose reference an enterprise carries.
    pub conflicted_but_created: usize,
    /// Twin pairs (same name) with no complete flow.
    pub pairs_without_winner: usize,
    /// Flows that ended in `conflict`.
    pub conflicts: usize,
}

/// Counts, per flow id, which enterprise the simulator holds for it: one enterprise per complete
/// flow, carrying that flow's reference and no other flow's; none for a flow that lost its name.
pub fn flow_census(sim: &Simulator, reports: &[FlowReport]) -> FlowCensus {
    let enterprises = sim.enterprises();
    let mut census = FlowCensus::default();
    let mut claimed: BTreeMap<i64, usize> = BTreeMap::new();
    for r in reports {
        let reference = format!("ctt-onboard:{}", r.flow_id);
        let marked: Vec<i64> = enterprises
            .iter()
            .filter(|e| e.billing_references.contains(&reference))
            .map(|e| e.id)
            .collect();
        if r.complete {
            if let Some(id) = r.enterprise_id {
                *claimed.entry(id).or_default() += 1;
            }
            if marked.len() != 1 || Some(marked[0]) != r.enterprise_id {
                census.misattributed += 1;
            }
        }
        if r.conflict {
            census.conflicts += 1;
            if !marked.is_empty() || r.enterprise_id.is_some() {
                census.conflicted_but_created += 1;
            }
        }
    }
    census.shared_enterprises = claimed.values().filter(|n| **n > 1).count();
    for (i, pair) in reports.windows(2).enumerate() {
        if is_twin(i + 1) && !pair[0].complete && !pair[1].complete {
            census.pairs_without_winner += 1;
        }
    }
    census
}

/// A client for the simulator with a movable clock and the soak's callback key.
pub fn soak_client(
    sim: &Simulator,
    retry: ctt_onboard::RetryPolicy,
) -> ctt_onboard::Result<(Client, ManualClock)> {
    let c = sim.credentials();
    let clock = ManualClock::new();
    let client = Client::builder()
        .base_url(sim.base_url())
        .reseller_credentials(ctt_onboard::Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.username,
            c.password.as_str(),
        ))
        .enterprise_credentials(ctt_onboard::Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.enterprise_username,
            c.enterprise_password.as_str(),
        ))
        .callback_key(CALLBACK_KEY)
        .retry_policy(retry)
        .clock(Arc::new(clock.clone()))
        .build()?;
    Ok((client, clock))
}
