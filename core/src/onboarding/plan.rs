//! What to onboard and how: the plan a flow is made from, checked before anything is sent.

use crate::callback;
use crate::client::parse_endpoint_url;
use crate::error::{Error, Result};
use crate::models::{ActionType, NewEnterprise, Service};
use serde::{Deserialize, Serialize};

/// What to onboard and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OnboardingPlan {
    /// The enterprise to create. `sbc_gateways` and `pbx_id` may be left empty to have them
    /// chosen in Part I: gateways by [`gateway_regions`](Self::gateway_regions), the PBX type
    /// marked default. With [`existing_enterprise_id`](Self::existing_enterprise_id), only the
    /// name and services are used.
    pub enterprise: NewEnterprise,
    /// Region names (`sbcGatewayRegion`) to choose gateways by, when `enterprise.sbc_gateways` is empty.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub gateway_regions: Vec<String>,
    /// The id of an enterprise that already exists: the flow starts at Part II.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub existing_enterprise_id: Option<i64>,
    /// The portal's callback URL (https, or http on a loopback host). Each URL the flow asks for
    /// gets this plus the flow's query parameters.
    pub redirect_url: String,
    /// Optional consents to ask for: contacts, CDR, call recording.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub optional_consents: Vec<ActionType>,
    /// Ask for "Allow Management by Service Provider" and record it (recommended). Default true.
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
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

    pub(super) fn has(&self, service: &Service) -> bool {
        self.enterprise.services.contains(service)
    }
}
