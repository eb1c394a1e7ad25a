//! Configuring a client, and checking every setting before the first call.
//!
//! A mistake in the configuration (an http base URL, an unknown endpoint name, a short callback
//! key) fails here as `invalid_input` naming the setting, not later as a confusing call error.

use super::process::{HttpConfig, Inner, ProcessState};
use super::{Client, DEFAULT_MAX_RESPONSE_BYTES, MAX_URL_LEN};
use crate::auth::{TokenLevel, TokenOrigin, TokenSource};
use crate::callback::CallbackKeys;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{
    Credentials, DEFAULT_BASE_URL, Endpoint, EnterpriseAuth, MAX_ATTEMPTS_LIMIT, RetryPolicy, Route,
};
use crate::error::{Error, Result};
use crate::secret::{Secret, redact_userinfo};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

/// Configures and builds a [`Client`].
///
/// ```
/// use ctt_onboard::{Client, Credentials};
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080")
///     .reseller_credentials(Credentials::new("client-id", "client-secret", "api-admin", "password"))
///     .build()
///     .expect("valid configuration");
/// # drop(client);
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    reseller: Option<Credentials>,
    reseller_token: Option<Secret>,
    enterprise: Option<EnterpriseAuth>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    proxy: Option<String>,
    ca_certs_pem: Vec<String>,
    paths: Vec<(String, String)>,
    /// The ring, or why the key given could not make one (reported by `build`).
    callback_keys: Option<std::result::Result<CallbackKeys, String>>,
    clock: Option<SharedClock>,
    max_response_bytes: usize,
    reseller_id: Option<i64>,
}

/// Shows the settings without a secret: credentials print masked, and the userinfo of the base
/// URL and of the proxy (a proxy password) is replaced by the mask.
impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &redact_userinfo(&self.base_url))
            .field("reseller", &self.reseller)
            .field("reseller_token", &self.reseller_token)
            .field("enterprise", &self.enterprise)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .field("ca_certs_pem", &self.ca_certs_pem.len())
            .field("paths", &self.paths)
            .field("callback_keys", &self.callback_keys)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("reseller_id", &self.reseller_id)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            reseller: None,
            reseller_token: None,
            enterprise: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: format!("ctt-onboard/{}", env!("CARGO_PKG_VERSION")),
            proxy: None,
            ca_certs_pem: Vec::new(),
            paths: Vec::new(),
            callback_keys: None,
            clock: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            reseller_id: None,
        }
    }
}

impl ClientBuilder {
    /// The API's base URL. Default `https://api.connecttoteams.com`. Must be https, except on a
    /// loopback host (the simulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The reseller API user's password-grant credentials (for `/reseller/*` and `/enterprise/*`).
    pub fn reseller_credentials(mut self, credentials: Credentials) -> Self {
        self.reseller = Some(credentials);
        self
    }

    /// A reseller-level token obtained elsewhere; used as is, never renewed.
    pub fn reseller_token(mut self, token: impl Into<Secret>) -> Self {
        self.reseller_token = Some(token.into());
        self
    }

    /// The enterprise's API credentials (password grant) for the `/provisioning/*` calls.
    pub fn enterprise_credentials(mut self, credentials: Credentials) -> Self {
        self.enterprise = Some(EnterpriseAuth::Credentials(credentials));
        self
    }

    /// An enterprise-level token obtained elsewhere; used as is, never renewed.
    pub fn enterprise_token(mut self, token: impl Into<Secret>) -> Self {
        self.enterprise = Some(EnterpriseAuth::Token(token.into()));
        self
    }

    /// How long to wait for a connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt of a call may take in all. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent`. Default `ctt-onboard/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// An HTTP(S) proxy for every call, such as `http://proxy.internal:3128`.
    pub fn proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }

    /// Trusts the CA certificates in this PEM text in addition to the system's.
    pub fn add_ca_cert_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_certs_pem.push(pem.into());
        self
    }

    /// Replaces an endpoint's path, or method and path: `("o365_user_info", "GET /provisioning/getO365UserInfo")`.
    /// Names are [`Endpoint::name`]; `{resellerId}` in the path is filled in per call.
    pub fn path(mut self, endpoint: impl Into<String>, route: impl Into<String>) -> Self {
        self.paths.push((endpoint.into(), route.into()));
        self
    }

    /// The portal's secret for tagging and verifying callback URLs (see the `callback` module):
    /// bytes, at least 16 (a string is taken as its UTF-8 bytes). A ring of this one key, its id
    /// derived from it; [`callback_keys`](Self::callback_keys) rotates keys.
    pub fn callback_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.callback_keys = Some(CallbackKeys::single(key).map_err(|e| e.message().to_owned()));
        self
    }

    /// The portal's callback key ring: the key that signs new URLs, older keys that still verify,
    /// retired key ids, and how long a URL answers. A ring without a clock of its own follows
    /// the client's.
    pub fn callback_keys(mut self, keys: CallbackKeys) -> Self {
        self.callback_keys = Some(Ok(keys));
        self
    }

    /// The clock used for token renewal, MSAL expiry and the onboarding's waits. Default: the system's.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The largest response body accepted; a larger one is a `decode` error. Default 1 MiB.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The reseller id, when known; otherwise it is read once from `getAuthenticatedUser`.
    pub fn reseller_id(mut self, reseller_id: i64) -> Self {
        self.reseller_id = Some(reseller_id);
        self
    }

    /// Checks the configuration and builds the client. Errors are `invalid_input` naming the setting.
    pub fn build(self) -> Result<Client> {
        let base = parse_endpoint_url("base_url", &self.base_url)?;
        self.check_limits()?;
        let routes = self.routes()?;
        let mut known_secrets = Vec::new();
        let http_config = self.http_config(&mut known_secrets)?;
        known_secrets.extend(url_password(&self.base_url));
        let http = http_config.build()?;
        let reseller_origin =
            reseller_origin(self.reseller, self.reseller_token, &mut known_secrets);
        let enterprise_origin = enterprise_origin(self.enterprise, &mut known_secrets);
        let clock: SharedClock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let callback_keys = callback_keys_on(self.callback_keys, &clock)?;
        if let Some(keys) = &callback_keys {
            known_secrets.extend(keys.text_secrets());
        }
        let home = ProcessState::new(std::process::id(), http, self.reseller_id);
        Ok(Client {
            inner: Arc::new(Inner {
                home: Some(Arc::new(home)),
                forked: std::sync::Mutex::new(None),
                http_config,
                base_shown: redact_userinfo(base.as_str()),
                base,
                routes,
                reseller_tokens: TokenSource::new(TokenLevel::Reseller, reseller_origin),
                enterprise_tokens: TokenSource::new(TokenLevel::Enterprise, enterprise_origin),
                retry: self.retry,
                clock,
                callback_keys,
                max_response_bytes: self.max_response_bytes,
                known_secrets,
                rng: AtomicU64::new(jitter_seed() | 1),
            }),
        })
    }

    /// The numeric settings: a cap, attempts, deadline and timeouts that can work, a positive id.
    fn check_limits(&self) -> Result<()> {
        if self.max_response_bytes == 0 {
            return Err(Error::invalid_input("max_response_bytes must be positive"));
        }
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&self.retry.max_attempts) {
            return Err(Error::invalid_input(format!(
                "retry max_attempts is {}; it must be 1 to {MAX_ATTEMPTS_LIMIT}",
                self.retry.max_attempts
            )));
        }
        if self.retry.deadline.is_zero() {
            return Err(Error::invalid_input("retry deadline must be positive"));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::invalid_input(
                "timeout and connect_timeout must be positive",
            ));
        }
        if let Some(id) = self.reseller_id.filter(|id| *id <= 0) {
            return Err(Error::invalid_input(format!(
                "reseller_id is {id}; ids are positive"
            )));
        }
        Ok(())
    }

    /// Every endpoint's route: its default, or the override given for it by name.
    fn routes(&self) -> Result<HashMap<Endpoint, Route>> {
        let mut routes: HashMap<Endpoint, Route> = Endpoint::ALL
            .iter()
            .map(|e| (*e, Route::default_for(*e)))
            .collect();
        for (name, spec) in &self.paths {
            let endpoint = Endpoint::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Endpoint::ALL.iter().map(|e| e.name()).collect();
                Error::invalid_input(format!(
                    "unknown endpoint {name:?} in path overrides (known: {})",
                    known.join(", ")
                ))
            })?;
            routes.insert(endpoint, Route::parse(endpoint, spec)?);
        }
        Ok(routes)
    }

    /// How to build the HTTP client: the extra CA certificates and the proxy, checked. A proxy
    /// password joins `known_secrets`, to be masked wherever it might be echoed.
    fn http_config(&self, known_secrets: &mut Vec<Secret>) -> Result<HttpConfig> {
        let mut http_config = HttpConfig {
            user_agent: self.user_agent.clone(),
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            certs: Vec::new(),
            proxy: None,
        };
        for (i, pem) in self.ca_certs_pem.iter().enumerate() {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                Error::invalid_input(format!("ca_cert_pem #{} is not PEM: {e}", i + 1))
            })?;
            if certs.is_empty() {
                return Err(Error::invalid_input(format!(
                    "ca_cert_pem #{} holds no certificate",
                    i + 1
                )));
            }
            http_config.certs.extend(certs);
        }
        if let Some(proxy) = &self.proxy {
            let p = reqwest::Proxy::all(proxy.as_str()).map_err(|e| {
                Error::invalid_input(redact_userinfo(&format!(
                    "proxy {proxy:?} is not a proxy URL: {e}"
                )))
            })?;
            http_config.proxy = Some(p);
            known_secrets.extend(url_password(proxy));
        }
        Ok(http_config)
    }
}

/// Where reseller-level tokens come from; the credentials or token join `known_secrets`.
fn reseller_origin(
    credentials: Option<Credentials>,
    token: Option<Secret>,
    known_secrets: &mut Vec<Secret>,
) -> TokenOrigin {
    match (credentials, token) {
        (Some(c), _) => {
            known_secrets.push(c.client_secret.clone());
            known_secrets.push(c.password.clone());
            TokenOrigin::Grant(c)
        }
        (None, Some(t)) => {
            known_secrets.push(t.clone());
            TokenOrigin::Fixed(t)
        }
        (None, None) => TokenOrigin::Missing(
            "no reseller credentials configured: set reseller credentials (client id, client secret, username, password) or a reseller token on the client",
        ),
    }
}

/// Where enterprise-level tokens come from; the credentials or token join `known_secrets`.
fn enterprise_origin(
    enterprise: Option<EnterpriseAuth>,
    known_secrets: &mut Vec<Secret>,
) -> TokenOrigin {
    match enterprise {
        Some(EnterpriseAuth::Credentials(c)) => {
            known_secrets.push(c.client_secret.clone());
            known_secrets.push(c.password.clone());
            TokenOrigin::Grant(c)
        }
        Some(EnterpriseAuth::Token(t)) => {
            known_secrets.push(t.clone());
            TokenOrigin::Fixed(t)
        }
        None => TokenOrigin::Missing(
            "no enterprise-level credentials configured: the /provisioning calls need the enterprise's API credentials or an enterprise token on the client (see \"Generate API Credentials for Your Tenant\")",
        ),
    }
}

/// The callback key ring as configured, or why its key was refused; a ring without a clock of
/// its own follows the client's.
fn callback_keys_on(
    keys: Option<std::result::Result<CallbackKeys, String>>,
    clock: &SharedClock,
) -> Result<Option<CallbackKeys>> {
    match keys {
        None => Ok(None),
        Some(Err(message)) => Err(Error::invalid_input(format!("callback_key: {message}"))),
        Some(Ok(keys)) if keys.has_clock() => Ok(Some(keys)),
        Some(Ok(keys)) => Ok(Some(keys.with_clock(clock.clone()))),
    }
}

/// A seed for the retry jitter: it needs to differ between clients, not to be unpredictable.
fn jitter_seed() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
}

/// Checks that a URL is absolute http(s), and https unless its host is loopback.
pub(crate) fn parse_endpoint_url(what: &str, value: &str) -> Result<url::Url> {
    if value.len() > MAX_URL_LEN {
        return Err(Error::invalid_input(format!(
            "{what} is {} characters long; at most {MAX_URL_LEN} are accepted",
            value.len()
        )));
    }
    // The URL may carry credentials (`user:password@`): messages quote it without them.
    let shown = redact_userinfo(value);
    let url = url::Url::parse(value.trim()).map_err(|e| {
        Error::invalid_input(format!("{what} {shown:?} is not an absolute URL: {e}"))
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::invalid_input(format!(
            "{what} must use https (plain http is allowed only on a loopback host such as 127.0.0.1), got {shown:?}"
        ))),
        other => Err(Error::invalid_input(format!(
            "{what} must be an https URL, got scheme {other:?}"
        ))),
    }
}

/// The password in a URL's userinfo, to be masked wherever it might be echoed.
fn url_password(value: &str) -> Option<Secret> {
    let url = url::Url::parse(value.trim()).ok()?;
    let password = url::form_urlencoded::parse(url.password()?.as_bytes())
        .map(|(k, _)| k.into_owned())
        .next()?;
    Some(Secret::new(password))
}

/// True when the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
