//! Every [`Client`] call as data, so that each binding forwards one call instead of declaring
//! (and documenting, and converting) a dozen methods of its own.
//!
//! [`ClientCall`] names a call and carries its arguments; [`Client::call`] performs it and hands
//! back its result as the serde value core's own types serialize to. The enum is the one
//! declaration of the client's surface outside Rust: its JSON Schema (feature `schema`) gives the
//! generator each call's name, arguments, documentation and, under `x-returns`, its result type,
//! from which it writes the Python and TypeScript methods. `x-returns` is a shape's name, `int`,
//! `string` or `null`, with `[]` after it for a list and `?` for one or nothing. Adding a variant here and a line in
//! [`Client::call`] is all a new call needs to reach every language.

use super::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::models::{ActionType, AuthenticationResult, NewEnterprise};
use crate::secret::redact_excerpt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One call of the ConnecttoTeams client, by name (`"call"`), with its arguments as fields.
/// [`Client::call`] performs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum ClientCall {
    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user and its `resellerId`.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "AuthenticatedUser")))]
    AuthenticatedUser,
    /// The reseller id: the one given in the options, or read once from `getAuthenticatedUser`.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "int")))]
    ResellerId,
    /// The SBC gateways the reseller may assign.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "SbcGateway[]")))]
    SbcGateways {
        /// The reseller whose gateways to list.
        reseller_id: i64,
    },
    /// The PBX types the reseller may assign.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "PbxType[]")))]
    PbxTypes {
        /// The reseller whose PBX types to list.
        reseller_id: i64,
    },
    /// `POST /reseller/newEnterprise`: creates the enterprise and returns its id. It is validated
    /// first (nothing is sent when that fails) and never sent twice blindly: a lost answer is
    /// settled by looking the name up, and is `outcome_unknown` when that cannot tell.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "int")))]
    CreateEnterprise {
        /// The enterprise to create.
        enterprise: NewEnterprise,
    },
    /// `POST /enterprise/getActionItemUrl`: the URL to show the Global Admin for `action`.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "string")))]
    ActionItemUrl {
        /// What the Global Admin is asked to do.
        action: ActionType,
        /// The enterprise's name, as created.
        enterprise_name: String,
        /// Where ConnecttoTeams posts the callback: https (http only on a loopback host).
        redirect_url: String,
    },
    /// `POST /provisioning/getO365UserInfo`: whether the admin's tenant has the Teams Tenant
    /// Admin API.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "O365UserInfo")))]
    O365UserInfo {
        /// The Global Admin's MSAL result, from the registration callback.
        auth: AuthenticationResult,
    },
    /// `POST /provisioning/provisionTenantAdminAPI`: provisions the "Skype and Teams Tenant Admin
    /// API" (and the roles it needs) for the admin's tenant.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    ProvisionTenantAdminApi {
        /// The Global Admin's MSAL result.
        auth: AuthenticationResult,
    },
    /// `POST /enterprise/updateEnterpriseManagementConsentByReseller`: records "management by
    /// service provider" after the Global Admin granted that consent; `tenant_roles_missing` when
    /// the tenant lacks the Teams/Skype Administrator roles.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "null")))]
    UpdateManagementConsent {
        /// The Global Admin's MSAL result.
        auth: AuthenticationResult,
        /// The reseller managing the enterprise.
        reseller_id: i64,
        /// The enterprise's Microsoft tenant.
        tenant_id: String,
    },
    /// The reseller's enterprises (every page of the list).
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "EnterpriseSummary[]")))]
    Enterprises {
        /// The reseller whose enterprises to list.
        reseller_id: i64,
    },
    /// One of the reseller's enterprises by its exact name, or nothing.
    #[cfg_attr(feature = "schema", schemars(extend("x-returns" = "EnterpriseSummary?")))]
    FindEnterprise {
        /// The reseller whose enterprises to search.
        reseller_id: i64,
        /// The enterprise's exact name.
        name: String,
    },
    /// Not part of the API: the benchmarks' probe of a binding's own cost. It sends nothing and
    /// answers `echo` after `hops` wake-ups from another thread (as an IO completion wakes a
    /// call), so the bench can time a binding's conversion of a result (`echo`) and its wake-ups
    /// (`hops`) apart from IO. Left out of the schema, so no host declares it.
    #[doc(hidden)]
    #[serde(rename = "__probe")]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Probe {
        /// Wake-ups before answering.
        hops: u8,
        /// What to answer.
        echo: Value,
    },
    /// Not part of the API: the bindings' tests' way to see any core error (or a panic) reach
    /// their host through the path every call takes. It sends nothing and fails with the error
    /// these fields describe, or panics when `panic` is true. Left out of the schema.
    #[doc(hidden)]
    #[serde(rename = "__fail")]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Fail {
        /// The error's code.
        code: ErrorCode,
        /// The error's message.
        message: String,
        /// The HTTP status it carries.
        #[serde(default)]
        status: Option<u16>,
        /// The request id it carries.
        #[serde(default)]
        request_id: Option<String>,
        /// The wait it asks for, in milliseconds.
        #[serde(default)]
        retry_after_ms: Option<u64>,
        /// Panic instead (a binding must turn the panic into an `api` error).
        #[serde(default)]
        panic: bool,
    },
}

impl ClientCall {
    /// The call's name on the wire (`sbcGateways`), for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AuthenticatedUser => "authenticatedUser",
            Self::ResellerId => "resellerId",
            Self::SbcGateways { .. } => "sbcGateways",
            Self::PbxTypes { .. } => "pbxTypes",
            Self::CreateEnterprise { .. } => "createEnterprise",
            Self::ActionItemUrl { .. } => "actionItemUrl",
            Self::O365UserInfo { .. } => "o365UserInfo",
            Self::ProvisionTenantAdminApi { .. } => "provisionTenantAdminApi",
            Self::UpdateManagementConsent { .. } => "updateManagementConsent",
            Self::Enterprises { .. } => "enterprises",
            Self::FindEnterprise { .. } => "findEnterprise",
            Self::Probe { .. } => "__probe",
            Self::Fail { .. } => "__fail",
        }
    }

    /// A call read from its serde value (a host's dict or object); `invalid_input` names the
    /// call and the field at fault.
    /// serde quotes a value it refuses, so the message is masked like a response body: JWT-shaped
    /// words, and every string of the MSAL result (`auth`, where tokens stand), are never shown.
    pub fn from_value(value: Value) -> Result<Self> {
        let name = value
            .get("call")
            .and_then(Value::as_str)
            .unwrap_or("(no \"call\")")
            .to_owned();
        let mut secrets = Vec::new();
        strings(value.get("auth"), &mut secrets);
        serde_json::from_value(value).map_err(|e| {
            let known: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let detail = redact_excerpt(&e.to_string(), &known, 500);
            Error::invalid_input(format!("client call {name}: {detail}"))
        })
    }
}

impl Client {
    /// Performs `call` and returns its result as a serde value: the serialized form of what the
    /// matching method returns (`null` for nothing).
    pub async fn call(&self, call: ClientCall) -> Result<Value> {
        let name = call.name();
        match call {
            ClientCall::AuthenticatedUser => out(name, self.authenticated_user().await?),
            ClientCall::ResellerId => out(name, self.reseller_id().await?),
            ClientCall::SbcGateways { reseller_id } => {
                out(name, self.sbc_gateways(reseller_id).await?)
            }
            ClientCall::PbxTypes { reseller_id } => out(name, self.pbx_types(reseller_id).await?),
            ClientCall::CreateEnterprise { enterprise } => {
                out(name, self.create_enterprise(&enterprise).await?)
            }
            ClientCall::ActionItemUrl {
                action,
                enterprise_name,
                redirect_url,
            } => out(
                name,
                self.action_item_url(&action, &enterprise_name, &redirect_url)
                    .await?,
            ),
            ClientCall::O365UserInfo { auth } => out(name, self.o365_user_info(&auth).await?),
            ClientCall::ProvisionTenantAdminApi { auth } => {
                out(name, self.provision_tenant_admin_api(&auth).await?)
            }
            ClientCall::UpdateManagementConsent {
                auth,
                reseller_id,
                tenant_id,
            } => out(
                name,
                self.update_management_consent(&auth, reseller_id, &tenant_id)
                    .await?,
            ),
            ClientCall::Enterprises { reseller_id } => {
                out(name, self.enterprises(reseller_id).await?)
            }
            ClientCall::FindEnterprise {
                reseller_id,
                name: n,
            } => out(name, self.find_enterprise(reseller_id, &n).await?),
            ClientCall::Probe { hops, echo } => {
                // A blocking-pool thread finishing wakes the call from another thread, as the IO
                // driver does when an answer arrives (a spawned task could run on the same
                // worker and cost far less than a real wake-up).
                for _ in 0..hops {
                    tokio::task::spawn_blocking(|| ()).await.map_err(|e| {
                        Error::flow_state(format!("the probe's wake-up failed: {e}"))
                    })?;
                }
                Ok(echo)
            }
            ClientCall::Fail { panic: true, .. } => {
                crate::__bindings::forced_panic_for_tests().map(|()| Value::Null)
            }
            ClientCall::Fail {
                code,
                message,
                status,
                request_id,
                retry_after_ms,
                panic: false,
            } => {
                let mut error = Error::new(code, message)
                    .with_request_id(request_id)
                    .with_retry_after(retry_after_ms.map(std::time::Duration::from_millis));
                if let Some(status) = status {
                    error = error.with_status(status);
                }
                Err(error)
            }
        }
    }
}

/// Every string in `value`, at any depth.
fn strings(value: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Array(items)) => items.iter().for_each(|v| strings(Some(v), out)),
        Some(Value::Object(map)) => map.values().for_each(|v| strings(Some(v), out)),
        _ => {}
    }
}

/// A call's result as its serde value.
fn out<T: Serialize>(call: &str, value: T) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::decode(format!("the result of {call} could not be serialized: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_calls_by_name_with_camel_case_arguments() {
        let call = ClientCall::from_value(
            json!({"call": "findEnterprise", "resellerId": 7, "name": "Acme"}),
        );
        assert_eq!(
            call.ok(),
            Some(ClientCall::FindEnterprise {
                reseller_id: 7,
                name: "Acme".into()
            })
        );
        let call = ClientCall::from_value(json!({"call": "resellerId"}));
        assert_eq!(call.ok(), Some(ClientCall::ResellerId));
    }

    #[test]
    fn a_bad_call_is_invalid_input_naming_the_call_and_the_field() {
        let e = ClientCall::from_value(json!({"call": "sbcGateways", "resellerId": "x"}))
            .expect_err("a string id is refused");
        assert_eq!(e.code(), crate::ErrorCode::InvalidInput);
        assert!(e.message().contains("sbcGateways"), "{}", e.message());
        let e = ClientCall::from_value(json!({"call": "sbcGateways", "resellerId": 1, "x": 2}))
            .expect_err("an unknown field is refused");
        assert!(e.message().contains("unknown field `x`"), "{}", e.message());
        let e = ClientCall::from_value(json!({"call": "deleteEverything"}))
            .expect_err("an unknown call is refused");
        assert!(e.message().contains("deleteEverything"), "{}", e.message());
        let e = ClientCall::from_value(json!({"resellerId": 1})).expect_err("no call");
        assert!(e.message().contains("no \"call\""), "{}", e.message());
    }

    #[test]
    fn a_refused_call_never_shows_a_token() {
        let opaque = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ0In0.c2lnbmF0dXJl";
        for auth in [
            json!(opaque),
            json!({"accessToken": opaque, "expiresOn": "soon"}),
        ] {
            let call = json!({"call": "o365UserInfo", "auth": auth});
            let e = ClientCall::from_value(call).expect_err("refused");
            assert!(!e.message().contains(opaque), "{}", e.message());
        }
        let call = json!({"call": "sbcGateways", "resellerId": jwt});
        let e = ClientCall::from_value(call).expect_err("refused");
        assert!(!e.message().contains(jwt), "{}", e.message());
        assert!(e.message().contains("sbcGateways"), "{}", e.message());
    }

    #[test]
    fn every_call_name_is_its_serde_tag() {
        let auth = AuthenticationResult::default();
        let enterprise = NewEnterprise::new("Acme", vec![]);
        let calls = [
            ClientCall::AuthenticatedUser,
            ClientCall::ResellerId,
            ClientCall::SbcGateways { reseller_id: 1 },
            ClientCall::PbxTypes { reseller_id: 1 },
            ClientCall::CreateEnterprise { enterprise },
            ClientCall::ActionItemUrl {
                action: ActionType::Registration,
                enterprise_name: "Acme".into(),
                redirect_url: "https://p.example/cb".into(),
            },
            ClientCall::O365UserInfo { auth: auth.clone() },
            ClientCall::ProvisionTenantAdminApi { auth: auth.clone() },
            ClientCall::UpdateManagementConsent {
                auth,
                reseller_id: 1,
                tenant_id: "t".into(),
            },
            ClientCall::Enterprises { reseller_id: 1 },
            ClientCall::FindEnterprise {
                reseller_id: 1,
                name: "Acme".into(),
            },
            ClientCall::Probe {
                hops: 2,
                echo: serde_json::json!([1, "two"]),
            },
            ClientCall::Fail {
                code: ErrorCode::Timeout,
                message: "slow".into(),
                status: Some(504),
                request_id: None,
                retry_after_ms: Some(1500),
                panic: false,
            },
        ];
        for call in calls {
            let value = serde_json::to_value(&call).expect("serializes");
            assert_eq!(value["call"], call.name());
            assert_eq!(ClientCall::from_value(value).ok(), Some(call));
        }
    }
}
