//! Part I.3, the one request that must not be repeated: creating the enterprise, and adopting it
//! only when this flow created it.
//!
//! Names are unique at the vendor, so a 409 or a lost answer is settled by looking the name up,
//! but the enterprise with that name may belong to another customer called the same (two "Acme"
//! flows) or have been created by hand. So the create carries a billing reference naming the flow
//! (`ctt-onboard:<flow id>`), and is sent only after a "create sent" marker is recorded and
//! checkpointed; only a flow holding that marker looks the name up, and it adopts the enterprise
//! found only when the list shows its reference. (Where the list shows no billing references, a
//! flow adopts only after an earlier create of its own whose answer was lost.)

use super::{Checkpoint, CreateMarker, Next, Onboarding, Step, StepState, unix};
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};

/// The prefix of the billing reference a flow's create carries.
pub const REFERENCE_PREFIX: &str = "ctt-onboard:";

/// What a lookup found for the plan's name.
enum Found {
    /// This flow's enterprise.
    Ours(i64),
    /// An enterprise this flow did not create.
    Theirs(i64),
    Nothing,
}

impl Onboarding {
    pub(super) async fn step_create(
        &mut self,
        client: &Client,
        checkpoint: &mut dyn Checkpoint,
        saved: &mut u64,
    ) -> Result<Next> {
        let step = Step::CreateEnterprise;
        if let Some(id) = self.state.plan.existing_enterprise_id {
            return Ok(self.adopt(id, format!("existing enterprise {id}"), client));
        }
        let rid = client.reseller_id().await?;
        let reference = format!("{REFERENCE_PREFIX}{}", self.state.id);
        let name = self.state.plan.enterprise.enterprise_name.clone();
        if let Some(marker) = self.state.create.clone() {
            // An earlier create's answer was lost: find it before sending another.
            match self
                .lookup(client, rid, &reference, marker.attempts > 0)
                .await
            {
                Ok(Found::Ours(id)) => {
                    return Ok(self.adopt(
                        id,
                        format!(
                            "enterprise {id} (found by this flow's reference after a lost answer)"
                        ),
                        client,
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    self.fail(step, &e, client.clock().now());
                    return Err(e);
                }
            }
        }
        let mut body = self.state.plan.enterprise.clone();
        body.restrict_admin_access = Some(true);
        body.reseller_id = Some(rid);
        if let Some(g) = &self.state.gateways {
            body.sbc_gateways = g.clone();
        }
        if let Some(p) = &self.state.pbx_ids {
            body.pbx_id = p.clone();
        }
        let refs = body.billing_references.get_or_insert_with(Vec::new);
        if !refs.contains(&reference) {
            refs.push(reference.clone());
        }
        body.validate()?;

        // "Create sent", saved before sending: a flow that cannot record it does not send.
        let before = (self.state.create.clone(), self.state.revision);
        let now = unix(client.clock().now());
        let attempts = before
            .0
            .as_ref()
            .map_or(0, |m| m.attempts)
            .saturating_add(1);
        self.state.create = Some(CreateMarker {
            reference: reference.clone(),
            attempts,
            first_at: before.0.as_ref().map_or(now, |m| m.first_at),
        });
        self.bump();
        if let Err(e) = checkpoint.save(self, *saved).await {
            self.state.create = before.0;
            self.state.revision = before.1;
            return Err(e);
        }
        *saved = self.state.revision;

        match client.create_enterprise_once(&body).await {
            Ok(id) => Ok(self.adopt(id, format!("enterprise {id}"), client)),
            Err(e) if matches!(e.code(), ErrorCode::Conflict | ErrorCode::OutcomeUnknown) => {
                // Our own earlier create may be the one holding the name only if an earlier
                // answer was lost; on the first attempt a 409 is someone else's enterprise.
                let lost = e.code() == ErrorCode::OutcomeUnknown || attempts > 1;
                match self.lookup(client, rid, &reference, lost).await {
                    Ok(Found::Ours(id)) => Ok(self.adopt(
                        id,
                        format!(
                            "enterprise {id} (found by this flow's reference after {})",
                            e.code()
                        ),
                        client,
                    )),
                    Ok(Found::Theirs(other)) => {
                        // Names are unique: no create of ours can hold this name.
                        self.state.create = None;
                        self.bump();
                        Err(Error::new(
                            ErrorCode::Conflict,
                            format!(
                                "the enterprise name {name:?} is taken by enterprise {other}, which this flow did not create: choose another name"
                            ),
                        )
                        .with_source(e))
                    }
                    Ok(Found::Nothing) if e.code() == ErrorCode::Conflict => {
                        self.state.create = None;
                        self.bump();
                        Err(Error::new(
                            ErrorCode::Conflict,
                            format!(
                                "the enterprise name {name:?} is taken (409), and not by this flow: choose another name"
                            ),
                        )
                        .with_source(e))
                    }
                    Ok(Found::Nothing) => {
                        self.fail(step, &e, client.clock().now());
                        Err(e)
                    }
                    Err(lookup) => {
                        let e = Error::new(
                            ErrorCode::OutcomeUnknown,
                            format!(
                                "create_enterprise for {name:?} failed ({}) and looking it up failed too ({}); advance again: the flow looks it up before sending another create",
                                e.message(),
                                lookup.message()
                            ),
                        )
                        .with_source(e);
                        self.fail(step, &e, client.clock().now());
                        Err(e)
                    }
                }
            }
            Err(e) => {
                if e.code() != ErrorCode::InvalidInput {
                    self.fail(step, &e, client.clock().now());
                }
                Err(e)
            }
        }
    }

    /// Looks the plan's name up (every page of the list) and says whose enterprise it is.
    async fn lookup(
        &self,
        client: &Client,
        reseller_id: i64,
        reference: &str,
        earlier_answer_lost: bool,
    ) -> Result<Found> {
        let name = &self.state.plan.enterprise.enterprise_name;
        let Some(found) = client.find_enterprise(reseller_id, name).await? else {
            return Ok(Found::Nothing);
        };
        let ours = match &found.billing_references {
            Some(refs) => refs.iter().any(|r| r == reference),
            None => earlier_answer_lost,
        };
        Ok(if ours {
            Found::Ours(found.enterprise_id)
        } else {
            Found::Theirs(found.enterprise_id)
        })
    }

    fn adopt(&mut self, id: i64, detail: String, client: &Client) -> Next {
        self.state.enterprise_id = Some(id);
        self.set(
            Step::CreateEnterprise,
            StepState::Done,
            Some(detail),
            client.clock().now(),
        );
        Next::Continue
    }
}
