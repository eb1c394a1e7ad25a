//! The body of `newEnterprise`, and the checks it must pass before anything is sent.
//!
//! The vendor's errors for a bad body are terse or absent, so the rules are checked here first
//! and each failure names the field.

use super::{MAX_ENTERPRISE_NAME_LEN, Service};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The `configDetails` of an enterprise configuration entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ConfigDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub contexts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub def_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub ent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub label_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub label_popover: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub master_reseller: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub partner: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reseller: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub system: Option<bool>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("x-name" = "config_type")))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub config_type: Option<String>,
}

/// One enterprise configuration entry (`entConfigInfos`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EntConfigInfo {
    /// What is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub config_details: Option<ConfigDetails>,
    /// The entity the value applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub entity_id: Option<i64>,
    /// The entry's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub id: Option<i64>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub value: Option<String>,
}

/// The body of `POST /reseller/newEnterprise`.
///
/// Required: `enterprise_name` (unique), `services`, `sbc_gateways` for PBX or Trunk, `pbx_id` for
/// PBX or CALLAPP. [`NewEnterprise::validate`] checks this before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewEnterprise {
    /// The enterprise's name, unique in the vendor's system.
    pub enterprise_name: String,
    /// The services to enable.
    #[serde(default)]
    pub services: Vec<Service>,
    /// SBC gateway ids (`sbcGatewayId`), required for PBX and Trunk.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub sbc_gateways: Vec<i64>,
    /// PBX type ids, required for PBX and CALLAPP.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub pbx_id: Vec<i64>,
    /// Restrict the enterprise admin's access; the restricted-access flow sets it to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub restrict_admin_access: Option<bool>,
    /// The reseller creating it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reseller_id: Option<i64>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub country_name: Option<String>,
    /// The provider's billing references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub billing_references: Option<Vec<String>>,
    /// Whether external numbers may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub allow_external_numbers: Option<bool>,
    /// Whether extensions may be added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub can_add_extensions: Option<bool>,
    /// Whether the reseller may manage the enterprise's provisioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub can_reseller_manage_enterprise_provisioning: Option<bool>,
    /// Configuration entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub ent_config_infos: Option<Vec<EntConfigInfo>>,
    /// The enterprise id, when the vendor asks for one (normally 0 or absent on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub enterprise_id: Option<i64>,
    /// Whether the enterprise is federated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub federated: Option<bool>,
    /// The federation domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub federation_domain: Option<String>,
    /// PBX music on hold (`pbxMOH` on the wire).
    #[serde(rename = "pbxMOH", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub pbx_moh: Option<bool>,
    /// Who registered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub registered_by: Option<String>,
    /// Whether secure SMS is enabled (`secureSMSEnabled` on the wire).
    #[serde(
        rename = "secureSMSEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub secure_sms_enabled: Option<bool>,
    /// The user limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub user_limit: Option<i64>,
    /// Whether user provisioning is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub user_provisioning_enabled: Option<bool>,
}

impl NewEnterprise {
    /// An enterprise with a name and services; set gateways and PBX types as the services need.
    pub fn new(enterprise_name: impl Into<String>, services: Vec<Service>) -> Self {
        Self {
            enterprise_name: enterprise_name.into(),
            services,
            ..Self::default()
        }
    }

    /// True when any service needs SBC gateways.
    pub fn needs_gateways(&self) -> bool {
        self.services.iter().any(Service::needs_gateways)
    }

    /// True when any service needs a PBX type.
    pub fn needs_pbx_type(&self) -> bool {
        self.services.iter().any(Service::needs_pbx_type)
    }

    /// Checks what the vendor requires before anything is sent; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let name = self.enterprise_name.trim();
        if name.is_empty() {
            return Err(Error::invalid_input(
                "enterpriseName is required and must not be blank",
            ));
        }
        if self.enterprise_name.chars().count() > MAX_ENTERPRISE_NAME_LEN {
            return Err(Error::invalid_input(format!(
                "enterpriseName is longer than {MAX_ENTERPRISE_NAME_LEN} characters"
            )));
        }
        if self.enterprise_name.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "enterpriseName contains a control character",
            ));
        }
        if self.services.is_empty() {
            return Err(Error::invalid_input(
                "services must name at least one service",
            ));
        }
        for service in &self.services {
            if let Service::Other(s) = service
                && (s.is_empty()
                    || s.len() > 64
                    || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                let shown: String = s.chars().take(40).collect();
                let more = if s.chars().count() > 40 { "…" } else { "" };
                return Err(Error::invalid_input(format!(
                    "services contains {shown:?}{more}, which is not a service name (known: PBX, Trunk, CALLAPP, CallRecording, SMS, CHAT)"
                )));
            }
        }
        if self.needs_gateways() && self.sbc_gateways.is_empty() {
            return Err(Error::invalid_input(
                "sbcGateways must name at least one gateway when services include PBX or Trunk",
            ));
        }
        if self.needs_pbx_type() && self.pbx_id.is_empty() {
            return Err(Error::invalid_input(
                "pbxId must name at least one PBX type when services include PBX or CALLAPP",
            ));
        }
        if let Some(id) = self.sbc_gateways.iter().find(|id| **id <= 0) {
            return Err(Error::invalid_input(format!(
                "sbcGateways contains {id}; ids are positive"
            )));
        }
        if let Some(id) = self.pbx_id.iter().find(|id| **id <= 0) {
            return Err(Error::invalid_input(format!(
                "pbxId contains {id}; ids are positive"
            )));
        }
        if let Some(id) = self.reseller_id.filter(|id| *id <= 0) {
            return Err(Error::invalid_input(format!(
                "resellerId is {id}; ids are positive"
            )));
        }
        if let Some(id) = self.enterprise_id.filter(|id| *id < 0) {
            return Err(Error::invalid_input(format!(
                "enterpriseId is {id}; it is 0 or positive"
            )));
        }
        if let Some(limit) = self.user_limit.filter(|l| *l < 0) {
            return Err(Error::invalid_input(format!(
                "userLimit is {limit}; it is 0 or positive"
            )));
        }
        Ok(())
    }
}
