//! Every client option as one plain record, so that each binding reads its host's options object
//! (a Python call's keywords, a JavaScript object, a Kotlin record) into the same shape and the
//! same checks, instead of declaring the options and their validation again.
//!
//! [`ClientOptions`] is what crosses the boundary: its JSON names are camelCase and unknown names
//! are refused, so a misspelled option is an error naming it rather than a silent default.
//! Callback keys and the clock are handles, not data: set them on the builder
//! [`ClientOptions::into_builder`] returns.

use super::ClientBuilder;
use crate::config::{Credentials, RetryPolicy};
use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::time::Duration;

/// How to build a [`Client`](super::Client). Every field is optional; `reseller` (or
/// `resellerToken`) is needed for almost every call, `enterprise` (or `enterpriseToken`) for the
/// `/provisioning` calls.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug))]
pub struct ClientOptions {
    /// The API's base URL. Default `https://api.connecttoteams.com`; plain http only on loopback.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub base_url: Option<String>,
    /// The reseller API user's password-grant credentials.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reseller: Option<Credentials>,
    /// A reseller-level token obtained elsewhere; used as is, never renewed.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reseller_token: Option<Secret>,
    /// The enterprise's API credentials (password grant) for the `/provisioning` calls.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub enterprise: Option<Credentials>,
    /// An enterprise-level token obtained elsewhere; used as is, never renewed.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub enterprise_token: Option<Secret>,
    /// How long one attempt of a call may take, in milliseconds. Default 30000.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub timeout_ms: Option<u64>,
    /// How long to wait for a connection, in milliseconds. Default 10000.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub connect_timeout_ms: Option<u64>,
    /// The retry policy; fields left out keep their defaults.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub retry: Option<RetryOptions>,
    /// The `User-Agent`. Default `ctt-onboard/<version>`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub user_agent: Option<String>,
    /// An HTTP(S) proxy for every call, such as `http://proxy.internal:3128`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub proxy: Option<String>,
    /// Extra CA certificates (PEM text) to trust besides the system's: one, or a list.
    #[serde(deserialize_with = "one_or_many")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub ca_cert_pem: Vec<String>,
    /// Per-endpoint path overrides, by endpoint name: `{"o365_user_info": "GET
    /// /provisioning/getO365UserInfo"}`. Names: token, authenticated_user, sbc_gateways,
    /// pbx_types, create_enterprise, action_item_url, o365_user_info,
    /// provision_tenant_admin_api, update_management_consent, enterprises.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub paths: HashMap<String, String>,
    /// The reseller id, when known; otherwise it is read once from `getAuthenticatedUser`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reseller_id: Option<i64>,
    /// The largest response body accepted, in bytes. Default 1 MiB.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub max_response_bytes: Option<u64>,
}

/// When and how often the client repeats a call that a repeat may fix (reads, URL requests and
/// the provisioning calls; a create is never repeated blindly). Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RetryOptions {
    /// Attempts in all, the first included (1 disables retries), 1 to 10. Default 4.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub max_attempts: Option<u32>,
    /// The first backoff in milliseconds. Default 200.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub initial_backoff_ms: Option<u64>,
    /// The longest backoff in milliseconds. Default 10000.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub max_backoff_ms: Option<u64>,
    /// The longest `Retry-After` (ms) the client waits for by itself; a longer one is returned as
    /// `rate_limited`. Default 60000.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub max_retry_after_ms: Option<u64>,
    /// The longest one call may take in all (attempts, backoffs, `Retry-After` waits), in ms.
    /// Default 60000.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub deadline_ms: Option<u64>,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
        None(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(pem) => vec![pem],
        OneOrMany::Many(pems) => pems,
        OneOrMany::None(()) => Vec::new(),
    })
}

impl RetryOptions {
    /// The policy: the defaults with the fields given replaced (checked by the builder).
    pub fn to_policy(&self) -> RetryPolicy {
        let d = RetryPolicy::default();
        let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
        RetryPolicy {
            max_attempts: self.max_attempts.unwrap_or(d.max_attempts),
            initial_backoff: ms(self.initial_backoff_ms, d.initial_backoff),
            max_backoff: ms(self.max_backoff_ms, d.max_backoff),
            max_retry_after: ms(self.max_retry_after_ms, d.max_retry_after),
            deadline: ms(self.deadline_ms, d.deadline),
        }
    }
}

impl ClientOptions {
    /// Reads options from a JSON value (a host's options object); `invalid_input` names the
    /// option that is unknown or of the wrong type.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self> {
        serde_json::from_value(value)
            .map_err(|e| Error::invalid_input(format!("client options: {e}")))
    }

    /// A builder with every option given set. [`ClientBuilder::build`] checks them all and names
    /// the option at fault.
    pub fn into_builder(self) -> Result<ClientBuilder> {
        let mut b = ClientBuilder::default();
        if let Some(url) = self.base_url {
            b = b.base_url(url);
        }
        if let Some(c) = self.reseller {
            b = b.reseller_credentials(c);
        }
        if let Some(t) = self.reseller_token {
            b = b.reseller_token(t);
        }
        if let Some(c) = self.enterprise {
            b = b.enterprise_credentials(c);
        }
        if let Some(t) = self.enterprise_token {
            b = b.enterprise_token(t);
        }
        if let Some(ms) = self.timeout_ms {
            b = b.timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = self.connect_timeout_ms {
            b = b.connect_timeout(Duration::from_millis(ms));
        }
        if let Some(retry) = &self.retry {
            b = b.retry_policy(retry.to_policy());
        }
        if let Some(ua) = self.user_agent {
            b = b.user_agent(ua);
        }
        if let Some(proxy) = self.proxy {
            b = b.proxy(proxy);
        }
        for pem in self.ca_cert_pem {
            b = b.add_ca_cert_pem(pem);
        }
        for (endpoint, route) in self.paths {
            b = b.path(endpoint, route);
        }
        if let Some(id) = self.reseller_id {
            b = b.reseller_id(id);
        }
        if let Some(bytes) = self.max_response_bytes {
            let bytes = usize::try_from(bytes).map_err(|_| {
                Error::invalid_input(format!("maxResponseBytes {bytes} is too large"))
            })?;
            b = b.max_response_bytes(bytes);
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn options_read_camel_case_and_refuse_unknown_names() {
        let o = ClientOptions::from_json_value(json!({
            "baseUrl": "http://127.0.0.1:9",
            "reseller": {"clientId": "c", "clientSecret": "s", "username": "u", "password": "p"},
            "timeoutMs": 1500,
            "retry": {"maxAttempts": 2},
            "caCertPem": "PEM",
            "paths": {"token": "POST /t"}
        }))
        .expect("options");
        assert_eq!(o.timeout_ms, Some(1500));
        assert_eq!(
            o.ca_cert_pem,
            vec!["PEM".to_owned()],
            "one PEM is a list of one"
        );
        let policy = o.retry.as_ref().expect("retry").to_policy();
        assert_eq!(policy.max_attempts, 2);
        assert_eq!(policy.deadline, RetryPolicy::default().deadline);
        let credentials = o.reseller.as_ref().expect("reseller");
        assert_eq!(credentials.password.expose(), "p");
        for (bad, name) in [
            (json!({"timeout": 5}), "timeout"),
            (json!({"retry": {"attempts": 2}}), "attempts"),
            (json!({"timeoutMs": "soon"}), "invalid type"),
        ] {
            let err = ClientOptions::from_json_value(bad).expect_err("refused");
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn the_builder_checks_what_the_options_set() {
        let o =
            ClientOptions::from_json_value(json!({"retry": {"maxAttempts": 50}})).expect("options");
        let err = o
            .into_builder()
            .expect("builder")
            .build()
            .expect_err("too many attempts");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.to_string().contains("max_attempts"), "{err}");
        let o = ClientOptions::from_json_value(json!({"paths": {"tokens": "POST /t"}}))
            .expect("options");
        let err = o
            .into_builder()
            .expect("builder")
            .build()
            .expect_err("unknown endpoint");
        assert!(err.to_string().contains("tokens"), "{err}");
    }
}
