//! The HTTP client: one async method per vendor endpoint, with tokens, retries and error mapping.
//!
//! [`Client`] is cheap to clone (one connection pool, one token cache behind an `Arc`), so a portal
//! builds it once and shares it. The rules that make it safe against a live tenant live here once
//! for every binding: which calls may be repeated, how a lost create is settled without creating
//! twice, and how an answer becomes an [`Error`] with a stable code and no secret in it.

use crate::auth::{
    TokenCache, TokenLevel, TokenOrigin, TokenResponse, TokenSource, basic_client_auth,
};
use crate::callback::CallbackKeys;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{
    Credentials, DEFAULT_BASE_URL, Endpoint, EnterpriseAuth, MAX_ATTEMPTS_LIMIT, RetryPolicy, Route,
};
use crate::error::{Error, ErrorCode, Result};
use crate::models::{
    ActionType, AuthenticatedUser, AuthenticationResult, EnterpriseSummary,
    ManagementConsentRequest, NewEnterprise, O365UserInfo, PbxType, SbcGateway,
    decode_action_item_url, decode_enterprise_id, decode_enterprise_list,
};
use crate::secret::{Secret, redact_excerpt, redact_userinfo};
use reqwest::header::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tracing::Instrument as _;

/// The vendor's text for the missing Teams/Skype Administrator roles (matched case-insensitively).
pub const TENANT_ROLES_MISSING_TEXT: &str = "Roles Teams/Skype Administrator could not be found";
/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The longest URL accepted for the base URL and redirect URLs.
pub const MAX_URL_LEN: usize = 2048;
/// The longest body excerpt an error carries.
const EXCERPT_LIMIT: usize = 1024;
/// The most pages of the enterprise list read by one call; a longer list is a `decode` error.
pub const MAX_LIST_PAGES: u32 = 1000;
/// The page size asked for when reading the enterprise list.
pub const LIST_PAGE_SIZE: u32 = 50;
/// Response headers that may carry a request id, in order of preference.
const REQUEST_ID_HEADERS: &[&str] = &[
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "x-amzn-requestid",
];

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
        let mut known_secrets = Vec::new();
        if let Some(proxy) = &self.proxy {
            let p = reqwest::Proxy::all(proxy.as_str()).map_err(|e| {
                Error::invalid_input(redact_userinfo(&format!(
                    "proxy {proxy:?} is not a proxy URL: {e}"
                )))
            })?;
            http_config.proxy = Some(p);
            known_secrets.extend(url_password(proxy));
        }
        known_secrets.extend(url_password(&self.base_url));
        let http = http_config.build()?;

        let reseller_origin = match (self.reseller, self.reseller_token) {
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
        };
        let enterprise_origin = match self.enterprise {
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
        };
        let clock: SharedClock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let callback_keys = match self.callback_keys {
            None => None,
            Some(Err(message)) => {
                return Err(Error::invalid_input(format!("callback_key: {message}")));
            }
            Some(Ok(keys)) if keys.has_clock() => Some(keys),
            Some(Ok(keys)) => Some(keys.with_clock(clock.clone())),
        };
        if let Some(keys) = &callback_keys {
            known_secrets.extend(keys.text_secrets());
        }
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
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
                rng: AtomicU64::new(seed | 1),
            }),
        })
    }
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

/// A client for the ConnecttoTeams provisioning API. Clone it freely: clones share the
/// connection pool and the token cache.
///
/// A client built before `fork()` (a module-level client under gunicorn `--preload`, a Celery
/// prefork pool) works in the child: the pool, the token cache and the single-flight lock
/// belong to the process that made them, and a forked child builds its own on its first call.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

/// How the HTTP client is built, kept so a forked child can build its own.
struct HttpConfig {
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    certs: Vec<reqwest::Certificate>,
    proxy: Option<reqwest::Proxy>,
}

impl HttpConfig {
    fn build(&self) -> Result<reqwest::Client> {
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        for cert in &self.certs {
            http = http.add_root_certificate(cert.clone());
        }
        // Android's platform verifier needs a JNI init with the app's Context before the first
        // HTTPS call, which a library cannot make for its host app; Mozilla's roots, compiled in,
        // need none. The portal's extra CA certificates above still count.
        #[cfg(target_os = "android")]
        {
            http = http.tls_certs_only(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok()),
            );
        }
        if let Some(proxy) = &self.proxy {
            http = http.proxy(proxy.clone());
        }
        http.build().map_err(|e| {
            Error::invalid_input(redact_userinfo(&format!(
                "the HTTP client could not be built: {e}"
            )))
        })
    }
}

/// What one process may not share with the process it was forked from.
///
/// After `fork()` only the forking thread lives on in the child. The parent's pooled connections
/// are driven by tasks on a runtime whose threads the child does not have (a request on one
/// stalls until its timeout, and a create then looks `outcome_unknown`), and a token fetch in
/// flight holds the single-flight lock forever. So each process gets its own pool, token caches
/// and reseller-id cell. The parent's are never dropped in the child: dropping a connection
/// would deregister its socket from the epoll instance the child shares with the parent, under
/// the parent's feet. They are leaked instead, once per fork.
#[derive(Debug)]
struct ProcessState {
    pid: u32,
    http: reqwest::Client,
    reseller_cache: TokenCache,
    enterprise_cache: TokenCache,
    reseller_id: tokio::sync::OnceCell<i64>,
    /// Tokens this process fetched lately, masked in every error body (an opaque token has no
    /// shape to recognise it by).
    fetched: std::sync::Mutex<Vec<Secret>>,
}

/// How many fetched tokens are remembered for masking.
const FETCHED_TOKENS_KEPT: usize = 8;
/// How often a forked child tries the lock of its state slot before it stops waiting (the lock
/// may have been inherited taken from a parent thread that no longer exists).
const SLOT_TRIES: usize = 1000;

impl ProcessState {
    fn new(pid: u32, http: reqwest::Client, reseller_id: Option<i64>) -> Self {
        Self {
            pid,
            http,
            reseller_cache: TokenCache::default(),
            enterprise_cache: TokenCache::default(),
            reseller_id: tokio::sync::OnceCell::new_with(reseller_id),
            fetched: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn cache(&self, level: TokenLevel) -> &TokenCache {
        match level {
            TokenLevel::Reseller => &self.reseller_cache,
            TokenLevel::Enterprise => &self.enterprise_cache,
        }
    }

    fn remember_fetched(&self, token: &Secret) {
        let mut fetched = self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        if !fetched.contains(token) {
            if fetched.len() >= FETCHED_TOKENS_KEPT {
                fetched.remove(0);
            }
            fetched.push(token.clone());
        }
    }

    fn fetched_tokens(&self) -> Vec<Secret> {
        self.fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

struct Inner {
    /// The state of the process that built the client; `None` only while dropping.
    home: Option<Arc<ProcessState>>,
    /// The state of a forked child (of the latest fork), built on its first call.
    forked: std::sync::Mutex<Option<Arc<ProcessState>>>,
    http_config: HttpConfig,
    /// The base URL as shown: its userinfo masked.
    base_shown: String,
    base: url::Url,
    routes: HashMap<Endpoint, Route>,
    reseller_tokens: TokenSource,
    enterprise_tokens: TokenSource,
    retry: RetryPolicy,
    clock: SharedClock,
    callback_keys: Option<CallbackKeys>,
    max_response_bytes: usize,
    known_secrets: Vec<Secret>,
    rng: AtomicU64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_shown)
            .field("reseller_tokens", &self.reseller_tokens)
            .field("enterprise_tokens", &self.enterprise_tokens)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // In a forked child, the states of other processes are leaked, not dropped (see
        // `ProcessState`). `get_mut` needs no lock, so an inherited taken lock cannot block here.
        let pid = std::process::id();
        if let Some(home) = self.home.take()
            && home.pid != pid
        {
            std::mem::forget(home);
        }
        let slot = self.forked.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(state) = slot.take()
            && state.pid != pid
        {
            std::mem::forget(state);
        }
    }
}

/// What a call sends.
enum Body {
    Empty,
    Json(serde_json::Value),
    Text(String),
}

/// An answer with a success status.
struct Answer {
    body: Vec<u8>,
}

/// A failed attempt and whether the request may have reached the server.
struct Failure {
    error: Error,
    /// True when the server may have acted on the request (so a create's outcome is unknown).
    maybe_sent: bool,
    /// True when a repeat may succeed.
    transient: bool,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The clock this client uses.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The callback key ring configured on the builder, if any.
    pub fn callback_keys(&self) -> Option<&CallbackKeys> {
        self.inner.callback_keys.as_ref()
    }

    /// True when enterprise-level credentials or a token are configured.
    pub fn has_enterprise_auth(&self) -> bool {
        !matches!(self.inner.enterprise_tokens.origin, TokenOrigin::Missing(_))
    }

    /// The base URL, with any userinfo (`user:password@`) in it masked.
    pub fn base_url(&self) -> &str {
        &self.inner.base_shown
    }

    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user and its `resellerId`.
    pub async fn authenticated_user(&self) -> Result<AuthenticatedUser> {
        let username = match &self.inner.reseller_tokens.origin {
            TokenOrigin::Grant(c) => c.username.clone(),
            _ => String::new(),
        };
        let answer = self
            .call(
                Endpoint::AuthenticatedUser,
                None,
                TokenLevel::Reseller,
                Body::Text(username),
            )
            .await?;
        decode_json(Endpoint::AuthenticatedUser, &answer.body)
    }

    /// The reseller id: the one given to the builder, or read once from `getAuthenticatedUser`.
    pub async fn reseller_id(&self) -> Result<i64> {
        self.process()?
            .reseller_id
            .get_or_try_init(|| async {
                let user = self.authenticated_user().await?;
                user.reseller_id
                    .ok_or_else(|| Error::decode("getAuthenticatedUser returned no resellerId"))
            })
            .await
            .copied()
    }

    /// `GET .../getAvailableSBCGatewayRegionsByResellerId/{resellerId}`: the SBC gateways the reseller may assign.
    pub async fn sbc_gateways(&self, reseller_id: i64) -> Result<Vec<SbcGateway>> {
        self.reseller_list(Endpoint::SbcGateways, reseller_id).await
    }

    /// `GET /pbx/getPBXTypesByResellerId`: the PBX types the reseller may assign.
    pub async fn pbx_types(&self, reseller_id: i64) -> Result<Vec<PbxType>> {
        self.reseller_list(Endpoint::PbxTypes, reseller_id).await
    }

    /// A `GET` of one of the reseller's lists, decoded as the documented JSON.
    async fn reseller_list<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        reseller_id: i64,
    ) -> Result<T> {
        check_id("reseller_id", reseller_id)?;
        let answer = self
            .call(
                endpoint,
                Some(reseller_id),
                TokenLevel::Reseller,
                Body::Empty,
            )
            .await?;
        decode_json(endpoint, &answer.body)
    }

    /// `POST /reseller/newEnterprise`: creates the enterprise and returns its id.
    ///
    /// The body is validated first ([`NewEnterprise::validate`]); nothing is sent when it fails.
    /// The call is never repeated blindly: when its outcome is unknown (the connection broke after
    /// sending, a timeout, a 5xx), the enterprise is looked up by name and its id returned;
    /// if it is not there, the error is `outcome_unknown`. A duplicate name is `conflict`.
    pub async fn create_enterprise(&self, enterprise: &NewEnterprise) -> Result<i64> {
        match self.send_create(enterprise).await? {
            Ok(id) => Ok(id),
            Err(lost) => self.settle_lost_create(enterprise, lost).await,
        }
    }

    /// Sends the create once. The inner `Err` is a failure after which the server may have
    /// acted (its outcome is unknown); a 429 is the server refusing before acting, so it is a
    /// plain error (`rate_limited`, with its wait), as is anything the server surely refused.
    async fn send_create(
        &self,
        enterprise: &NewEnterprise,
    ) -> Result<std::result::Result<i64, Error>> {
        enterprise.validate()?;
        let body = serde_json::to_value(enterprise).map_err(|e| {
            Error::invalid_input(format!("enterprise could not be serialized: {e}"))
        })?;
        match self
            .call_inner(
                Endpoint::CreateEnterprise,
                None,
                TokenLevel::Reseller,
                Body::Json(body),
            )
            .await
        {
            Ok(answer) => decode_enterprise_id(&answer.body).map(Ok),
            Err(f) if f.maybe_sent && f.transient && f.error.status() != Some(429) => {
                Ok(Err(f.error))
            }
            Err(f) => Err(f.error),
        }
    }

    async fn settle_lost_create(&self, enterprise: &NewEnterprise, cause: Error) -> Result<i64> {
        tracing::warn!(
            enterprise = %enterprise.enterprise_name,
            code = %cause.code(),
            "the create's outcome is unknown; looking the enterprise up by name"
        );
        let reseller_id = match enterprise.reseller_id {
            Some(id) => Ok(id),
            None => self.reseller_id().await,
        };
        let found = match reseller_id {
            Ok(rid) => self.find_enterprise(rid, &enterprise.enterprise_name).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(found)) => {
                tracing::info!(enterprise_id = found.enterprise_id, "the lost create had succeeded");
                Ok(found.enterprise_id)
            }
            Ok(None) => Err(Error::new(
                ErrorCode::OutcomeUnknown,
                format!(
                    "create_enterprise for {:?} failed ({}) and the enterprise is not in the reseller's list; it was probably not created, but check before creating it again",
                    enterprise.enterprise_name,
                    cause.message()
                ),
            )
            .with_source(cause)),
            Err(lookup) => Err(Error::new(
                ErrorCode::OutcomeUnknown,
                format!(
                    "create_enterprise for {:?} failed ({}) and looking it up failed too ({}); it may or may not exist",
                    enterprise.enterprise_name,
                    cause.message(),
                    lookup.message()
                ),
            )
            .with_source(cause)),
        }
    }

    /// `POST /enterprise/getActionItemUrl`: the URL to show the Global Admin for `action`.
    ///
    /// `redirect_url` is where ConnecttoTeams posts the callback; it must be https (http only on a
    /// loopback host).
    pub async fn action_item_url(
        &self,
        action: &ActionType,
        enterprise_name: &str,
        redirect_url: &str,
    ) -> Result<String> {
        if action.as_str().trim().is_empty() {
            return Err(Error::invalid_input("actionType must not be empty"));
        }
        if enterprise_name.trim().is_empty() {
            return Err(Error::invalid_input("enterpriseName must not be blank"));
        }
        parse_endpoint_url("redirectUrl", redirect_url)?;
        let body = serde_json::json!({
            "actionType": action.as_str(),
            "enterpriseName": enterprise_name,
            "redirectUrl": redirect_url,
        });
        let answer = self
            .call(
                Endpoint::ActionItemUrl,
                None,
                TokenLevel::Reseller,
                Body::Json(body),
            )
            .await?;
        decode_action_item_url(&answer.body)
    }

    /// `POST /provisioning/getO365UserInfo`: whether the tenant has the Teams Tenant Admin API.
    pub async fn o365_user_info(&self, auth: &AuthenticationResult) -> Result<O365UserInfo> {
        let body = auth_body(auth)?;
        let answer = self
            .call_with_msal(
                Endpoint::O365UserInfo,
                TokenLevel::Enterprise,
                Body::Json(body),
                auth,
            )
            .await?;
        decode_json(Endpoint::O365UserInfo, &answer.body)
    }

    /// `POST /provisioning/provisionTenantAdminAPI`: asks ConnecttoTeams to provision the
    /// "Skype and Teams Tenant Admin API" (and the roles it needs) for the admin's tenant.
    pub async fn provision_tenant_admin_api(&self, auth: &AuthenticationResult) -> Result<()> {
        let body = auth_body(auth)?;
        self.call_with_msal(
            Endpoint::ProvisionTenantAdminApi,
            TokenLevel::Enterprise,
            Body::Json(body),
            auth,
        )
        .await?;
        Ok(())
    }

    /// `POST /enterprise/updateEnterpriseManagementConsentByReseller`: records "management by
    /// service provider" after the Global Admin granted that consent.
    ///
    /// Fails with `tenant_roles_missing` when the tenant lacks the Teams/Skype Administrator roles.
    pub async fn update_management_consent(
        &self,
        auth: &AuthenticationResult,
        reseller_id: i64,
        tenant_id: &str,
    ) -> Result<()> {
        check_id("reseller_id", reseller_id)?;
        if tenant_id.trim().is_empty() {
            return Err(Error::invalid_input("tenantId must not be blank"));
        }
        auth_body(auth)?;
        let request = ManagementConsentRequest {
            authentication_result: auth.clone(),
            reseller_id,
            tenant_id: tenant_id.to_owned(),
        };
        let body = serde_json::to_value(&request).map_err(|e| {
            Error::invalid_input(format!("consent request could not be serialized: {e}"))
        })?;
        self.call_with_msal(
            Endpoint::UpdateManagementConsent,
            TokenLevel::Reseller,
            Body::Json(body),
            auth,
        )
        .await?;
        Ok(())
    }

    /// `GET /reseller/v3/getEnterprisesForReseller`: the reseller's enterprises, every page.
    ///
    /// The list's shape is ASSUMED (api-reference.md): a bare array is the whole list; a Spring
    /// page object (`{"content": [...], "number", "totalPages", "last"}`) is read page by page
    /// with `page=N&size=M` until its last page, at most [`MAX_LIST_PAGES`] pages (more is a
    /// `decode` error, as is a server that answers another page than the one asked for).
    pub async fn enterprises(&self, reseller_id: i64) -> Result<Vec<EnterpriseSummary>> {
        let mut all = Vec::new();
        self.enterprise_pages(reseller_id, |page| {
            all.extend(page);
            false
        })
        .await?;
        Ok(all)
    }

    /// Finds one of the reseller's enterprises by its exact name, reading pages until it is found.
    pub async fn find_enterprise(
        &self,
        reseller_id: i64,
        name: &str,
    ) -> Result<Option<EnterpriseSummary>> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("enterprise name must not be blank"));
        }
        let mut found = None;
        self.enterprise_pages(reseller_id, |page| {
            found = page.into_iter().find(|e| e.enterprise_name == name);
            found.is_some()
        })
        .await?;
        Ok(found)
    }

    /// Reads the enterprise list page by page, handing each to `take` until it returns true or
    /// the last page was read.
    async fn enterprise_pages(
        &self,
        reseller_id: i64,
        mut take: impl FnMut(Vec<EnterpriseSummary>) -> bool,
    ) -> Result<()> {
        check_id("reseller_id", reseller_id)?;
        for page in 0..MAX_LIST_PAGES {
            let query = [
                ("page", page.to_string()),
                ("size", LIST_PAGE_SIZE.to_string()),
            ];
            let span = tracing::debug_span!("ctt_call", endpoint = Endpoint::Enterprises.name());
            let answer = self
                .call_within_deadline(
                    Endpoint::Enterprises,
                    Some(reseller_id),
                    TokenLevel::Reseller,
                    Body::Empty,
                    &[],
                    &query,
                )
                .instrument(span)
                .await
                .map_err(|f| f.error)?;
            let paging = ListPaging::of(&answer.body);
            if let Some(number) = paging.number
                && number != i64::from(page)
            {
                return Err(Error::decode(format!(
                    "enterprise list answered page {number} when asked for page {page}: the server ignores the page parameter, so the list cannot be read whole"
                )));
            }
            let items = decode_enterprise_list(&answer.body)?;
            let empty = items.is_empty();
            if take(items) || empty || paging.is_last(page) {
                return Ok(());
            }
        }
        Err(Error::decode(format!(
            "enterprise list has more than {MAX_LIST_PAGES} pages of {LIST_PAGE_SIZE}; stopped reading"
        )))
    }

    async fn call(
        &self,
        endpoint: Endpoint,
        reseller_id: Option<i64>,
        level: TokenLevel,
        body: Body,
    ) -> Result<Answer> {
        self.call_inner(endpoint, reseller_id, level, body)
            .await
            .map_err(|f| f.error)
    }

    /// A call whose body carries the Global Admin's MSAL tokens, masked in any error body.
    async fn call_with_msal(
        &self,
        endpoint: Endpoint,
        level: TokenLevel,
        body: Body,
        auth: &AuthenticationResult,
    ) -> Result<Answer> {
        let secrets: Vec<Secret> = std::iter::once(auth.access_token.clone())
            .chain(auth.id_token.clone())
            .chain(auth.refresh_token.clone())
            .collect();
        let span = tracing::debug_span!("ctt_call", endpoint = endpoint.name());
        self.call_within_deadline(endpoint, None, level, body, &secrets, &[])
            .instrument(span)
            .await
            .map_err(|f| f.error)
    }

    fn tokens(&self, level: TokenLevel) -> &TokenSource {
        match level {
            TokenLevel::Reseller => &self.inner.reseller_tokens,
            TokenLevel::Enterprise => &self.inner.enterprise_tokens,
        }
    }

    /// This process's pool and token caches: the builder's, or in a forked child its own (see
    /// [`ProcessState`]).
    fn process(&self) -> Result<Arc<ProcessState>> {
        let pid = std::process::id();
        if let Some(home) = self.inner.home.as_ref().filter(|h| h.pid == pid) {
            return Ok(home.clone());
        }
        if let Some(Some(state)) =
            self.forked_slot(|slot| slot.as_ref().filter(|s| s.pid == pid).cloned())
        {
            return Ok(state);
        }
        // Built outside the slot's lock: loading the system's certificates takes a while.
        let reseller_id = self
            .inner
            .home
            .as_ref()
            .and_then(|h| h.reseller_id.get().copied());
        tracing::debug!(
            pid,
            "a forked process: building its own connection pool and token cache"
        );
        let fresh = Arc::new(ProcessState::new(
            pid,
            self.inner.http_config.build()?,
            reseller_id,
        ));
        let stored = self.forked_slot(|slot| match slot.as_ref() {
            Some(s) if s.pid == pid => s.clone(),
            _ => {
                if let Some(inherited) = slot.replace(fresh.clone()) {
                    // Another process's (this one was forked from a fork): leaked, not dropped.
                    std::mem::forget(inherited);
                }
                fresh.clone()
            }
        });
        // When the slot's lock never came free (inherited taken from a thread that did not
        // survive the fork), the fresh state serves this call alone: slower, never stuck.
        Ok(stored.unwrap_or(fresh))
    }

    /// Runs `f` on the forked-child slot; `None` when its lock stays taken.
    fn forked_slot<T>(&self, f: impl FnOnce(&mut Option<Arc<ProcessState>>) -> T) -> Option<T> {
        for _ in 0..SLOT_TRIES {
            match self.inner.forked.try_lock() {
                Ok(mut slot) => return Some(f(&mut slot)),
                Err(std::sync::TryLockError::Poisoned(p)) => return Some(f(&mut p.into_inner())),
                Err(std::sync::TryLockError::WouldBlock) => std::thread::yield_now(),
            }
        }
        None
    }

    fn random(&self) -> f64 {
        // xorshift64*: jitter needs spread, not cryptographic quality.
        let mut x = self.inner.rng.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.inner.rng.store(x, Ordering::Relaxed);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn url_for(
        &self,
        endpoint: Endpoint,
        reseller_id: Option<i64>,
    ) -> Result<(reqwest::Method, url::Url, String)> {
        let route = self
            .inner
            .routes
            .get(&endpoint)
            .cloned()
            .unwrap_or_else(|| Route::default_for(endpoint));
        let path = match reseller_id {
            Some(id) => route.path.replace("{resellerId}", &id.to_string()),
            None => route.path.clone(),
        };
        let mut base = self.inner.base.clone();
        let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
        let (p, q) = match joined.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (joined, None),
        };
        base.set_path(&p);
        base.set_query(q.as_deref());
        Ok((route.method, base, route.path))
    }

    /// Sends one call with tokens, retries and error mapping, inside a `ctt_call` span that
    /// names the endpoint (never a secret: tokens travel only in headers and bodies).
    async fn call_inner(
        &self,
        endpoint: Endpoint,
        reseller_id: Option<i64>,
        level: TokenLevel,
        body: Body,
    ) -> std::result::Result<Answer, Failure> {
        let span = tracing::debug_span!("ctt_call", endpoint = endpoint.name());
        self.call_within_deadline(endpoint, reseller_id, level, body, &[], &[])
            .instrument(span)
            .await
    }

    /// [`Self::call_attempts`] under the retry policy's deadline: an attempt still running when
    /// it passes ends as `timeout` (which may have reached the server).
    async fn call_within_deadline(
        &self,
        endpoint: Endpoint,
        reseller_id: Option<i64>,
        level: TokenLevel,
        body: Body,
        secrets: &[Secret],
        query: &[(&str, String)],
    ) -> std::result::Result<Answer, Failure> {
        let limit = self.inner.retry.deadline;
        let attempts = self.call_attempts(endpoint, reseller_id, level, body, secrets, query);
        // A deadline too far away to represent is no deadline.
        let Some(deadline) = tokio::time::Instant::now().checked_add(limit) else {
            return attempts.await;
        };
        match tokio::time::timeout_at(deadline, attempts).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure {
                error: Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "{} did not finish within the retry policy's deadline of {limit:?}",
                        endpoint.name()
                    ),
                ),
                maybe_sent: true,
                transient: true,
            }),
        }
    }

    async fn call_attempts(
        &self,
        endpoint: Endpoint,
        reseller_id: Option<i64>,
        level: TokenLevel,
        body: Body,
        secrets: &[Secret],
        query: &[(&str, String)],
    ) -> std::result::Result<Answer, Failure> {
        let started_call = tokio::time::Instant::now();
        let unsent = |error: Error| Failure {
            maybe_sent: false,
            transient: error.is_transient(),
            error,
        };
        let (method, mut url, path_template) =
            self.url_for(endpoint, reseller_id).map_err(unsent)?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let state = self.process().map_err(unsent)?;
        let tokens = self.tokens(level);
        let policy = &self.inner.retry;
        let mut attempt: u32 = 1;
        let mut reauthenticated = false;
        loop {
            let token = self.token(&state, level).await.map_err(unsent)?;
            let mut request = state
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose());
            request = match &body {
                Body::Empty => request,
                Body::Json(v) => request.json(v),
                Body::Text(t) => request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(t.clone()),
            };
            let started = Instant::now();
            let outcome = self.send(endpoint, request).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let failure = match outcome {
                Ok((status, headers, bytes)) => {
                    tracing::debug!(
                        endpoint = endpoint.name(), method = %method, path = %path_template,
                        status, attempt, elapsed_ms, "ctt call"
                    );
                    if (200..300).contains(&status) {
                        return Ok(Answer { body: bytes });
                    }
                    if status == 401 && !reauthenticated && tokens.is_renewable() {
                        tracing::debug!(
                            level = level.name(),
                            "401: fetching a new token and repeating once"
                        );
                        tokens.invalidate(state.cache(level), &token).await;
                        reauthenticated = true;
                        continue;
                    }
                    let mut masked: Vec<Secret> = secrets.to_vec();
                    masked.push(token.clone());
                    masked.extend(state.fetched_tokens());
                    self.status_failure(endpoint, status, &headers, &bytes, &masked)
                }
                Err(failure) => {
                    tracing::debug!(
                        endpoint = endpoint.name(), method = %method, path = %path_template,
                        attempt, elapsed_ms, code = %failure.error.code(), "ctt call failed"
                    );
                    failure
                }
            };
            let repeatable = failure.transient && (endpoint.is_idempotent() || !failure.maybe_sent);
            if !repeatable || attempt >= policy.max_attempts {
                return Err(failure);
            }
            let wait = match failure.error.retry_after() {
                Some(wait) if wait > policy.max_retry_after => return Err(failure),
                Some(wait) => wait,
                None => policy.backoff(attempt, self.random()),
            };
            if !fits_deadline(started_call, policy.deadline, wait) {
                // Sleeping would end past the deadline: the caller gets the failure (and its
                // `Retry-After`) now, rather than a `timeout` after a useless wait.
                tracing::debug!(
                    endpoint = endpoint.name(),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "not retrying: the wait would pass the call's deadline"
                );
                return Err(failure);
            }
            tracing::debug!(
                endpoint = endpoint.name(),
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn token(&self, state: &ProcessState, level: TokenLevel) -> Result<Secret> {
        let tokens = self.tokens(level);
        let token = tokens
            .get(state.cache(level), &self.inner.clock, |creds| {
                self.fetch_token(state, level, creds)
            })
            .await?;
        if tokens.is_renewable() {
            state.remember_fetched(&token);
        }
        Ok(token)
    }

    /// The password grant, retried like an idempotent call.
    async fn fetch_token(
        &self,
        state: &ProcessState,
        level: TokenLevel,
        creds: Credentials,
    ) -> Result<TokenResponse> {
        let started_fetch = tokio::time::Instant::now();
        let (method, url, _) = self.url_for(Endpoint::Token, None)?;
        let basic = basic_client_auth(&creds.client_id, creds.client_secret.expose());
        let mut attempt = 1;
        loop {
            let request = state
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::AUTHORIZATION, basic.as_str())
                .form(&[
                    ("username", creds.username.as_str()),
                    ("password", creds.password.expose()),
                    ("grant_type", "password"),
                ]);
            let failure = match self.send(Endpoint::Token, request).await {
                Ok((status, _, bytes)) if (200..300).contains(&status) => {
                    return serde_json::from_slice::<TokenResponse>(&bytes).map_err(|e| {
                        Error::decode(format!(
                            "token response is not the OAuth2 JSON ({}, line {} column {}); its text is withheld",
                            json_error_kind(&e),
                            e.line(),
                            e.column()
                        ))
                    });
                }
                Ok((status, headers, bytes)) if status == 400 || status == 401 => {
                    let mut f = self.status_failure(Endpoint::Token, status, &headers, &bytes, &[]);
                    f.error = Error::new(
                        ErrorCode::Authentication,
                        format!(
                            "the {} credentials were refused: {}",
                            level.name(),
                            f.error.message()
                        ),
                    )
                    .with_status(status)
                    .with_request_id(f.error.request_id().map(str::to_owned));
                    f.transient = false;
                    f
                }
                Ok((status, headers, bytes)) => {
                    self.status_failure(Endpoint::Token, status, &headers, &bytes, &[])
                }
                Err(f) => f,
            };
            if !failure.transient || attempt >= self.inner.retry.max_attempts {
                return Err(failure.error);
            }
            let wait = failure
                .error
                .retry_after()
                .filter(|w| *w <= self.inner.retry.max_retry_after)
                .unwrap_or_else(|| self.inner.retry.backoff(attempt, self.random()));
            if !fits_deadline(started_fetch, self.inner.retry.deadline, wait) {
                return Err(failure.error);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Sends a request and reads the body under the size cap.
    async fn send(
        &self,
        endpoint: Endpoint,
        request: reqwest::RequestBuilder,
    ) -> std::result::Result<(u16, HeaderMap, Vec<u8>), Failure> {
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_failure(endpoint, e, false))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let cap = self.inner.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|len| len as usize > cap)
        {
            return Err(Failure {
                error: Error::decode(format!(
                    "{} response is larger than the {cap}-byte cap",
                    endpoint.name()
                ))
                .with_status(status)
                .with_request_id(request_id(&headers)),
                maybe_sent: true,
                transient: false,
            });
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return Err(Failure {
                            error: Error::decode(format!(
                                "{} response is larger than the {cap}-byte cap",
                                endpoint.name()
                            ))
                            .with_status(status)
                            .with_request_id(request_id(&headers)),
                            maybe_sent: true,
                            transient: false,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let mut f = transport_failure(endpoint, e, true);
                    f.error = f
                        .error
                        .with_status(status)
                        .with_request_id(request_id(&headers));
                    return Err(f);
                }
            }
        }
        Ok((status, headers, body))
    }

    /// Maps a non-success answer to an error with status, request id and a masked excerpt.
    fn status_failure(
        &self,
        endpoint: Endpoint,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        call_secrets: &[Secret],
    ) -> Failure {
        let text = String::from_utf8_lossy(body);
        // The configured secrets, and the call's own: its bearer token, the tokens this process
        // fetched lately and the MSAL tokens in its body.
        let known: Vec<&str> = self
            .inner
            .known_secrets
            .iter()
            .chain(call_secrets)
            .map(Secret::expose)
            .collect();
        let excerpt = if endpoint == Endpoint::Token {
            token_error_excerpt(&text, &known)
        } else {
            redact_excerpt(&text, &known, EXCERPT_LIMIT)
        };
        let retry_after = retry_after(headers, self.inner.clock.now());
        let code = if text
            .to_ascii_lowercase()
            .contains(&TENANT_ROLES_MISSING_TEXT.to_ascii_lowercase())
        {
            ErrorCode::TenantRolesMissing
        } else {
            match status {
                400 | 422 => ErrorCode::InvalidInput,
                401 => ErrorCode::Authentication,
                403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                409 => ErrorCode::Conflict,
                429 => ErrorCode::RateLimited,
                500..=599 => ErrorCode::Server,
                _ => ErrorCode::Api,
            }
        };
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let message = if excerpt.trim().is_empty() {
            format!("{} failed: {status} {reason}", endpoint.name())
        } else {
            format!("{} failed: {status} {reason}: {excerpt}", endpoint.name())
        };
        Failure {
            error: Error::new(code, message)
                .with_status(status)
                .with_request_id(request_id(headers))
                .with_retry_after(retry_after),
            maybe_sent: true,
            transient: matches!(status, 429 | 502 | 503 | 504)
                || (status >= 500 && !endpoint.is_idempotent()),
        }
    }
}

impl Client {
    /// `POST /reseller/newEnterprise` sent once and never settled by a lookup: a lost answer (the
    /// server may have acted) is `outcome_unknown`, a 429 is `rate_limited`. For a caller that
    /// can recognise its own enterprise afterwards; the onboarding flow does, by the billing
    /// reference it adds.
    pub async fn create_enterprise_once(&self, enterprise: &NewEnterprise) -> Result<i64> {
        self.send_create(enterprise).await?.map_err(|lost| {
            Error::new(
                ErrorCode::OutcomeUnknown,
                format!(
                    "create_enterprise for {:?} may or may not have been performed ({})",
                    enterprise.enterprise_name,
                    lost.message()
                ),
            )
            .with_source(lost)
        })
    }
}

/// What a failed token answer may show: only the OAuth2 `error` and `error_description` fields.
/// Anything else the token endpoint sends may be a token, so it is withheld.
fn token_error_excerpt(text: &str, known: &[&str]) -> String {
    let fields = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .map(|v| {
            ["error", "error_description"]
                .iter()
                .filter_map(|k| v.get(*k).and_then(|x| x.as_str()))
                .collect::<Vec<_>>()
                .join(": ")
        });
    match fields {
        Some(f) if !f.is_empty() => redact_excerpt(&f, known, EXCERPT_LIMIT),
        _ if text.trim().is_empty() => String::new(),
        _ => {
            "(the token endpoint's answer is withheld: it is not the OAuth2 error JSON)".to_owned()
        }
    }
}

fn transport_failure(endpoint: Endpoint, e: reqwest::Error, after_headers: bool) -> Failure {
    let connect = e.is_connect();
    let (code, what) = if e.is_timeout() {
        (ErrorCode::Timeout, "timed out")
    } else if connect {
        (ErrorCode::Network, "could not connect")
    } else if after_headers {
        (ErrorCode::Network, "the response body was cut off")
    } else {
        (ErrorCode::Network, "the connection broke")
    };
    // reqwest's text names the URL without credentials; tokens travel only in headers.
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    Failure {
        error: Error::new(code, format!("{} {what}: {detail}", endpoint.name())).with_source(e),
        maybe_sent: !connect,
        transient: true,
    }
}

/// The paging fields of one enterprise-list answer (a Spring `Page`), where it has them.
#[derive(Debug, Default)]
struct ListPaging {
    /// The page's index, counted from 0.
    number: Option<i64>,
    total_pages: Option<i64>,
    last: Option<bool>,
}

impl ListPaging {
    fn of(body: &[u8]) -> ListPaging {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
        else {
            // A bare array (or a body the list decoder refuses): no paging.
            return ListPaging::default();
        };
        ListPaging {
            number: map.get("number").and_then(serde_json::Value::as_i64),
            total_pages: map.get("totalPages").and_then(serde_json::Value::as_i64),
            last: map.get("last").and_then(serde_json::Value::as_bool),
        }
    }

    /// True when `page` is the last: the answer says so, or it says nothing about more pages.
    fn is_last(&self, page: u32) -> bool {
        match (self.last, self.total_pages) {
            (Some(last), _) => last,
            (None, Some(total)) => i64::from(page) + 1 >= total,
            (None, None) => true,
        }
    }
}

/// True when waiting `wait` more still ends within `deadline` of `started`.
fn fits_deadline(started: tokio::time::Instant, deadline: Duration, wait: Duration) -> bool {
    started
        .elapsed()
        .checked_add(wait)
        .is_some_and(|total| total < deadline)
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(|s| s.chars().take(128).collect())
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn check_id(what: &str, id: i64) -> Result<()> {
    if id > 0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} is {id}; ids are positive"
        )))
    }
}

fn auth_body(auth: &AuthenticationResult) -> Result<serde_json::Value> {
    if auth.access_token.is_empty() {
        return Err(Error::invalid_input(
            "authenticationResult.accessToken is empty",
        ));
    }
    let auth = serde_json::to_value(auth).map_err(|e| {
        Error::invalid_input(format!("authenticationResult could not be serialized: {e}"))
    })?;
    Ok(serde_json::json!({ "authenticationResult": auth }))
}

fn decode_json<T: serde::de::DeserializeOwned>(endpoint: Endpoint, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        // serde's message may quote a value from the body, so it is masked like the body.
        Error::decode(format!(
            "{} response is not the documented JSON ({}): {}",
            endpoint.name(),
            redact_excerpt(&e.to_string(), &[], 200),
            redact_excerpt(&text, &[], 200)
        ))
    })
}

fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the expected shape",
        serde_json::error::Category::Eof => "cut off",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        let now = SystemTime::now();
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        h.insert(
            "retry-after",
            HeaderValue::from_str(&later).expect("header"),
        );
        let d = retry_after(&h, now).expect("date").as_secs();
        assert!((118..=120).contains(&d), "{d}");
    }

    #[test]
    fn base_url_must_be_https_unless_loopback() {
        assert!(parse_endpoint_url("base_url", "https://api.connecttoteams.com").is_ok());
        assert!(parse_endpoint_url("base_url", "http://127.0.0.1:9").is_ok());
        assert!(parse_endpoint_url("base_url", "http://localhost:9").is_ok());
        assert!(parse_endpoint_url("base_url", "http://[::1]:9").is_ok());
        let e = parse_endpoint_url("base_url", "http://api.connecttoteams.com").expect_err("http");
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert!(e.message().contains("https"));
        assert!(parse_endpoint_url("base_url", "ftp://x").is_err());
        assert!(parse_endpoint_url("base_url", "nope").is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(20));
    }

    #[test]
    fn path_overrides_are_checked() {
        assert!(
            Client::builder()
                .path("o365_user_info", "GET /x")
                .build()
                .is_ok()
        );
        let e = Client::builder()
            .path("nope", "/x")
            .build()
            .expect_err("unknown");
        assert!(e.message().contains("nope"));
        let e = Client::builder()
            .path("token", "x")
            .build()
            .expect_err("relative");
        assert!(e.message().contains("token"));
    }
}
