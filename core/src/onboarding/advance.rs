//! The step machine: `advance` runs each step that applies, in the seed's order, until one needs
//! a person or time.
//!
//! Each step writes its result into the state before the next starts, so a flow dropped mid-call
//! loses at most the step in flight.

use super::{
    Awaiting, Checkpoint, MSAL_EXPIRY_MARGIN, NoCheckpoint, Onboarding, Progress, ROLES_WAIT, Step,
    StepState, from_unix, unix,
};
use crate::callback::{self, Ask, CallbackKeys};
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::models::{ActionType, AuthenticationResult};

pub(super) enum Next {
    Continue,
    Stop(Progress),
}

impl Onboarding {
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

    pub(super) async fn advance_once(
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

    pub(super) fn complete(&self) -> Result<Progress> {
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

    pub(super) async fn run(
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

    pub(super) async fn step_gateways(&mut self, client: &Client) -> Result<Next> {
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

    pub(super) async fn step_pbx_types(&mut self, client: &Client) -> Result<Next> {
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
    pub(super) async fn fresh_auth(
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

    pub(super) async fn step_admin_api_check(&mut self, client: &Client) -> Result<Next> {
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

    pub(super) async fn step_provision(&mut self, client: &Client) -> Result<Next> {
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

    pub(super) async fn step_management_update(&mut self, client: &Client) -> Result<Next> {
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
    pub(super) async fn after_msal_failure(
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
    pub(super) async fn ask_admin(
        &mut self,
        step: Step,
        action: ActionType,
        client: &Client,
    ) -> Result<Next> {
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

pub(super) fn roles_reason() -> String {
    "the tenant's Teams/Skype Administrator roles were missing: provisionTenantAdminAPI was called, and the vendor asks to retry the consent no sooner than 30 minutes later".into()
}

pub(super) fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
