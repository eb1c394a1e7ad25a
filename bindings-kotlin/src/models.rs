//! The models are core's types (its `uniffi` derives); this module adds the open enums' wire
//! spellings, the create body's checks, and the two models holding secrets as objects (their
//! `toString()` is core's masking `Debug`, where a data class would print the tokens).

use crate::error::invalid_input;
use ctt_onboard::{self as core, ActionType, CttError, NewEnterprise, Service};
use std::sync::Arc;

crate::export! {
    /// The wire spelling of a service, such as `CALLAPP`.
    pub fn service_wire_name(service: Service) -> String {
        service.as_str().to_owned()
    }

    /// Reads a service's wire spelling; unknown values become `Service.Other`.
    pub fn service_from_wire(value: String) -> Service {
        Service::from_wire(&value)
    }

    /// The wire spelling of an action type, such as `REGISTRATION`.
    pub fn action_type_wire_name(action: ActionType) -> String {
        action.as_str().to_owned()
    }

    /// Reads an action type's wire spelling; unknown values become `ActionType.Other`.
    pub fn action_type_from_wire(value: String) -> ActionType {
        ActionType::from_wire(&value)
    }

    /// Checks a create body as `createEnterprise` does; `InvalidInput` names the field.
    pub fn validate_new_enterprise(enterprise: NewEnterprise) -> Result<(), CttError> {
        Ok(enterprise.validate()?)
    }

    /// The body of a create, as JSON with the wire's names (for logs and tests; holds no secret).
    pub fn new_enterprise_to_json(enterprise: NewEnterprise) -> Result<String, CttError> {
        serde_json::to_string(&enterprise)
            .map_err(|e| invalid_input(format!("enterprise could not be serialized: {e}")))
    }

    /// The action a Global Admin acts on for `step`, if it is one of those.
    pub fn step_action(step: core::Step) -> Option<ActionType> {
        step.action()
    }
}

/// The MSAL `authenticationResult` of a Global Admin's sign-in. `toString()` masks its tokens; only
/// `toJson()` returns them.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct AuthenticationResult {
    pub(crate) inner: core::AuthenticationResult,
}

fn decode(what: &str, e: serde_json::Error) -> CttError {
    core::Error::decode(format!("authenticationResult {what}: {e}")).into()
}

crate::export! {
    impl AuthenticationResult {
        /// Reads an `authenticationResult` JSON object (the vendor's camelCase names).
        #[uniffi::constructor]
        pub fn from_json(json: String) -> Result<Arc<Self>, CttError> {
            let inner = serde_json::from_str(&json).map_err(|e| decode("is not the documented JSON", e))?;
            Ok(Arc::new(Self { inner }))
        }

        /// The JSON with the real tokens, for storage; treat it as a secret.
        pub fn to_json(&self) -> Result<String, CttError> {
            serde_json::to_string(&self.inner).map_err(|e| decode("could not be serialized", e))
        }

        /// The token type, such as `login.microsoftonline.com`.
        pub fn access_token_type(&self) -> Option<String> {
            self.inner.access_token_type.clone()
        }

        /// When the access token expires (from `expiresOn`), if known.
        pub fn expires_at(&self) -> Option<std::time::SystemTime> {
            self.inner.expires_at()
        }

        /// The Microsoft tenant id from `userInfo`.
        pub fn tenant_id(&self) -> Option<String> {
            self.inner.tenant_id().map(str::to_owned)
        }

        /// Who signed in, from `userInfo`.
        pub fn displayable_id(&self) -> Option<String> {
            self.inner.displayable_id().map(str::to_owned)
        }

        /// True when an access token is present.
        pub fn has_access_token(&self) -> bool {
            !self.inner.access_token.is_empty()
        }
    }
}

/// The JSON ConnecttoTeams posts to a `redirectUrl` after the admin acts; `toString()` masks its
/// tokens.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct CallbackPayload {
    pub(crate) inner: core::CallbackPayload,
}

crate::export! {
    impl CallbackPayload {
        /// Parses a callback body; `CttException.Decode` names what is wrong.
        #[uniffi::constructor]
        pub fn parse(body: String) -> Result<Arc<Self>, CttError> {
            Ok(Arc::new(Self { inner: core::CallbackPayload::parse(&body)? }))
        }

        /// The admin's MSAL result.
        pub fn authentication_result(&self) -> Arc<AuthenticationResult> {
            let inner = self.inner.authentication_result().clone();
            Arc::new(AuthenticationResult { inner })
        }

        /// The tenant id the admin signed in to.
        pub fn tenant_id(&self) -> Option<String> {
            self.inner.tenant_id().map(str::to_owned)
        }

        /// True when the signer is a Global Admin.
        pub fn is_global_admin(&self) -> bool {
            self.inner.is_global_admin()
        }

        /// `organization`, such as `MSFT`.
        pub fn organization(&self) -> Option<String> {
            self.inner.organization.clone()
        }

        /// `officeUserType`, `GLOBAL_ADMIN` for a Global Admin.
        pub fn office_user_type(&self) -> Option<String> {
            self.inner.office_user_type.clone()
        }

        /// `companyAdmin`.
        pub fn company_admin(&self) -> Option<bool> {
            self.inner.company_admin
        }

        /// `containsTeamsTenantAdminAPI`.
        pub fn contains_teams_tenant_admin_api(&self) -> Option<bool> {
            self.inner.contains_teams_tenant_admin_api
        }
    }
}
