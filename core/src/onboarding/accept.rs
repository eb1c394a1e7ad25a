//! Taking a callback in two stages: offline checks when it arrives, the vendor's word before it
//! counts.
//!
//! The callback body is not signed, and its redirect URL is not secret, so a body posted under a
//! genuine tag proves only that someone had the URL. `handle_callback` checks everything it can
//! offline (the tag, that the URL is the flow's current ask and not expired, a Global Admin, the
//! body's tenant against the token's `tid` and the bound tenant, a token never seen before) and
//! consumes the ask; `advance` then asks ConnecttoTeams (`getO365UserInfo`) about the MSAL result
//! before anything relies on it, and binds the tenant that answer names. A result the vendor
//! refuses, or a mismatch, leaves the step asking again with the reason in `status()`: a forged
//! body costs the admin one more click, and never binds a tenant or marks a consent granted.

use super::{Answered, Next, Onboarding, Refusal, Step, StepState, Unconfirmed};
use crate::callback::{self, CallbackKeys, VerifiedCallback};
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::models::ActionType;
use std::time::SystemTime;

/// What [`Onboarding::handle_callback`] did with a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CallbackOutcome {
    /// The callback answered the flow's current ask; `advance` confirms it and goes on.
    Accepted,
    /// The same ask was answered before with the same payload; nothing changed.
    Duplicate,
}

/// How many answered asks and accepted tokens a flow remembers (a flow has about a dozen asks).
const REMEMBERED: usize = 32;

impl CallbackOutcome {
    /// `"accepted"` or `"duplicate"`, as every binding spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackOutcome::Accepted => "accepted",
            CallbackOutcome::Duplicate => "duplicate",
        }
    }
}

impl Onboarding {
    /// Takes the callback the portal received at `url` (absolute, or the path and query its
    /// router saw) with `body`. It is accepted only when its tag verifies with `keys`, it answers
    /// the ask this flow waits for now (its nonce) and is not older than the ring's maximum age,
    /// the signer is a Global Admin, the body's tenant agrees with the access token's `tid` and
    /// with the tenant bound at registration, and its access token was never accepted before.
    /// Every rejection is a `callback_invalid` error that leaves the state exactly as it was; the
    /// same ask answered again with the same payload (whitespace and key order aside) is
    /// [`CallbackOutcome::Duplicate`] and changes nothing.
    ///
    /// An accepted callback consumes its ask; `advance` confirms its MSAL result with
    /// ConnecttoTeams before the flow relies on it.
    pub fn handle_callback(
        &mut self,
        keys: &CallbackKeys,
        url: &str,
        body: &str,
    ) -> Result<CallbackOutcome> {
        let verified =
            callback::verify_relative_to(keys, url, &self.state.plan.redirect_url, body)?;
        self.accept(verified, keys.now())
    }

    fn accept(&mut self, verified: VerifiedCallback, now: SystemTime) -> Result<CallbackOutcome> {
        if verified.flow_id != self.state.id {
            return Err(Error::callback_invalid(format!(
                "the callback belongs to flow {}, not to this flow ({})",
                verified.flow_id, self.state.id
            )));
        }
        if let Some(answered) = self
            .state
            .answered
            .iter()
            .find(|a| a.nonce == verified.nonce)
        {
            if answered.digest == verified.payload_digest {
                return Ok(CallbackOutcome::Duplicate);
            }
            return Err(Error::callback_invalid(format!(
                "this ask ({}) was already answered with a different body: a URL answers once",
                verified.action
            )));
        }
        let Some(awaiting) = self.state.awaiting.clone() else {
            return Err(Error::callback_invalid(format!(
                "the flow is not waiting for a callback (got one for {})",
                verified.action
            )));
        };
        if awaiting.nonce.as_deref() != Some(verified.nonce.as_str())
            || awaiting.action != verified.action
        {
            return Err(Error::callback_invalid(format!(
                "the callback answers an earlier ask ({}) or one this flow did not make; the flow waits for {} at a newer URL",
                verified.action, awaiting.action
            )));
        }
        let payload = &verified.payload;
        let auth = payload.authentication_result();
        let who = auth
            .displayable_id()
            .unwrap_or("an unnamed user")
            .to_owned();
        if !payload.is_global_admin() {
            return Err(Error::callback_invalid(format!(
                "signed in as {who} ({}), who is not a Global Admin: ask a Global Admin of the tenant to open the URL again",
                payload
                    .office_user_type
                    .as_deref()
                    .unwrap_or("no officeUserType")
            )));
        }
        let tenant = payload
            .tenant_id()
            .ok_or_else(|| {
                Error::callback_invalid("the callback names no tenant (userInfo.tenantId)")
            })?
            .to_owned();
        if let Some(tid) = callback::jwt_tenant(auth.access_token.expose())
            && tid != tenant
        {
            return Err(Error::callback_invalid(format!(
                "the callback's userInfo.tenantId is {tenant}, but its access token was issued for tenant {tid}"
            )));
        }
        if let Some(bound) = &self.state.tenant_id
            && bound != &tenant
        {
            return Err(Error::callback_invalid(format!(
                "the callback is from tenant {tenant}, but the enterprise is registered to tenant {bound}"
            )));
        }
        let token = callback::secret_digest(auth.access_token.expose());
        if self.state.seen_tokens.contains(&token) {
            return Err(Error::callback_invalid(
                "the callback's access token already answered an earlier ask: a replay",
            ));
        }
        // Every check passed: from here on the state changes.
        self.state.unconfirmed = Some(Unconfirmed {
            step: awaiting.step,
            action: verified.action.clone(),
            auth: auth.clone(),
            tenant,
            who: who.clone(),
        });
        // The newer sign-in supersedes the older one: nothing reads the older while this one waits
        // for the vendor's word (advance confirms first), and a refusal asks again, whose answer
        // brings a sign-in of its own. So the flow holds one MSAL result, not two, and its JSON
        // stays under 4 KB.
        self.state.auth = None;
        self.state.awaiting = None;
        self.state.answered.push(Answered {
            nonce: verified.nonce,
            digest: verified.payload_digest,
        });
        self.state.seen_tokens.push(token);
        // Bounded, so repeated refusals cannot grow the JSON without end: an ask this old was
        // answered long ago, and a token this old has long expired at the vendor.
        if self.state.answered.len() > REMEMBERED {
            self.state.answered.remove(0);
        }
        if self.state.seen_tokens.len() > REMEMBERED {
            self.state.seen_tokens.remove(0);
        }
        self.set(
            awaiting.step,
            StepState::Waiting,
            Some(format!(
                "answered by {who}; advance confirms it with ConnecttoTeams"
            )),
            now,
        );
        Ok(CallbackOutcome::Accepted)
    }

    /// Confirms the accepted callback's MSAL result with ConnecttoTeams, then applies it; a
    /// refusal or a mismatch sends the step back to asking, with the reason kept for `status()`.
    pub(super) async fn confirm(&mut self, client: &Client) -> Result<Next> {
        let Some(u) = self.state.unconfirmed.clone() else {
            return Ok(Next::Continue);
        };
        if !client.has_enterprise_auth() {
            return Err(Error::new(
                ErrorCode::Authentication,
                "confirming the Global Admin's sign-in (getO365UserInfo) needs enterprise-level API credentials: configure enterprise credentials or an enterprise token on the client, then advance again",
            ));
        }
        let info = match client.o365_user_info(&u.auth).await {
            Ok(info) => info,
            Err(e) if matches!(e.code(), ErrorCode::InvalidInput | ErrorCode::Forbidden) => {
                return Ok(self.refuse(
                    &u,
                    format!("ConnecttoTeams refused its sign-in ({})", e.message()),
                    client,
                ));
            }
            Err(e) => {
                self.fail(u.step, &e, client.clock().now());
                return Err(e);
            }
        };
        let named = info
            .extra
            .get("tenantId")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        if let Some(named) = &named
            && named != &u.tenant
        {
            return Ok(self.refuse(
                &u,
                format!(
                    "ConnecttoTeams says the sign-in is for tenant {named}, but the callback claimed {}",
                    u.tenant
                ),
                client,
            ));
        }
        let tenant = named.unwrap_or_else(|| u.tenant.clone());
        if let Some(bound) = &self.state.tenant_id
            && bound != &tenant
        {
            return Ok(self.refuse(
                &u,
                format!("the sign-in is for tenant {tenant}, not the bound tenant {bound}"),
                client,
            ));
        }
        let now = client.clock().now();
        self.state.unconfirmed = None;
        if self
            .state
            .refused
            .as_ref()
            .is_some_and(|r| r.step == u.step)
        {
            self.state.refused = None;
        }
        self.state.auth = Some(u.auth.clone());
        if u.step == Step::Registration && u.action == ActionType::Registration {
            self.state.tenant_id = Some(tenant.clone());
            self.state.admin = Some(u.who.clone());
            self.state.contains_admin_api = Some(info.contains_teams_tenant_admin_api);
        }
        if u.action == ActionType::LoginEnterpriseAdmin {
            self.set(
                u.step,
                StepState::Pending,
                Some(format!("signed in again as {}", u.who)),
                now,
            );
        } else {
            let detail = if u.step == Step::Registration {
                format!(
                    "registered by {} for tenant {tenant} (confirmed by ConnecttoTeams)",
                    u.who
                )
            } else {
                format!("granted by {} (confirmed by ConnecttoTeams)", u.who)
            };
            self.set(u.step, StepState::Done, Some(detail), now);
        }
        Ok(Next::Continue)
    }

    fn refuse(&mut self, u: &Unconfirmed, reason: String, client: &Client) -> Next {
        tracing::warn!(step = u.step.name(), %reason, "a callback was refused after the fact; asking again");
        self.state.unconfirmed = None;
        self.state.refused = Some(Refusal {
            step: u.step,
            reason: reason.clone(),
        });
        // The step asks again: a new URL with a new nonce.
        self.set(
            u.step,
            StepState::Pending,
            Some(format!("the callback was refused: {reason}; asking again")),
            client.clock().now(),
        );
        Next::Continue
    }
}
