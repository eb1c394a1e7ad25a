//! ctt-sim: a stateful local stand-in for the ConnecttoTeams provisioning API and the Microsoft
//! consent screen.
//!
//! Nobody can test an onboarding against a live Microsoft tenant in CI, and providers need to try
//! their portal without a vendor account. The simulator answers every endpoint of
//! api-reference.md with the documented shapes, keeps state (tokens, enterprises, tenants,
//! consents), is strict the way the real service is, and has one tenant for each branch of the
//! flow. It runs on its own thread and runtime, so it can be started from async tests, blocking
//! code and every language binding alike, and binds 127.0.0.1 only.

mod calls;
pub mod control;
#[cfg(feature = "uniffi")]
mod ffi_uniffi;
mod routes;
pub mod state;

pub use calls::{ApprovedCallback, SimCall};
pub use control::{SimHandle, SimOptions, SimTenant, sim_tenants};

pub use state::{
    Callback, ConsentRecord, RequestRecord, SimCredentials, SimEnterprise, SimError, TENANTS,
    Tenant,
};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use state::World;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

/// A fault the simulator can inject into an API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FaultKind {
    /// Answer after an extra delay.
    Latency,
    /// 429 with `Retry-After`.
    TooManyRequests,
    /// 500.
    InternalError,
    /// 502.
    BadGateway,
    /// 503 with `Retry-After`.
    Unavailable,
    /// Close the connection without acting on the request.
    DropBeforeRead,
    /// Act on the request, then close the connection without answering.
    DropAfterRead,
    /// Act on the request and send only part of the body.
    TruncatedBody,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Latency,
        FaultKind::TooManyRequests,
        FaultKind::InternalError,
        FaultKind::BadGateway,
        FaultKind::Unavailable,
        FaultKind::DropBeforeRead,
        FaultKind::DropAfterRead,
        FaultKind::TruncatedBody,
    ];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::TooManyRequests => "429",
            FaultKind::InternalError => "500",
            FaultKind::BadGateway => "502",
            FaultKind::Unavailable => "503",
            FaultKind::DropBeforeRead => "drop-before",
            FaultKind::DropAfterRead => "drop-after",
            FaultKind::TruncatedBody => "truncate",
        }
    }

    /// Parses a CLI name.
    pub fn parse(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Which faults to inject, how often, reproducibly by seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FaultConfig {
    /// Fraction of API requests faulted, 0.0 to 1.0. Default 0 (off).
    pub rate: f64,
    /// Seed of the fault sequence.
    #[cfg_attr(feature = "uniffi", uniffi(default = 1))]
    pub seed: u64,
    /// The kinds to draw from (uniformly). Default: all.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub kinds: Vec<FaultKind>,
    /// The delay of a `latency` fault, in milliseconds. Default 200.
    #[cfg_attr(feature = "uniffi", uniffi(default = 200))]
    pub latency_ms: u64,
    /// The `Retry-After` seconds of 429 and 503 faults. Default 1.
    #[cfg_attr(feature = "uniffi", uniffi(default = 1))]
    pub retry_after_secs: u64,
    /// Only requests whose path starts with one of these are faulted. Default: empty, every path.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub paths: Vec<String>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            rate: 0.0,
            seed: 1,
            kinds: FaultKind::ALL.to_vec(),
            latency_ms: 200,
            retry_after_secs: 1,
            paths: Vec::new(),
        }
    }
}

impl FaultConfig {
    /// Parses the CLI form: `rate=0.2,seed=7,kinds=429+500+drop-after,latency-ms=100,retry-after=0,paths=/reseller+/oauth`.
    pub fn parse(spec: &str) -> Result<FaultConfig, String> {
        let mut config = FaultConfig::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("fault option {part:?} is not key=value"))?;
            match key {
                "rate" => {
                    config.rate = value
                        .parse()
                        .map_err(|_| format!("rate {value:?} is not a number"))?;
                    if !(0.0..=1.0).contains(&config.rate) {
                        return Err(format!("rate {value} is not between 0 and 1"));
                    }
                }
                "seed" => {
                    config.seed = value
                        .parse()
                        .map_err(|_| format!("seed {value:?} is not a number"))?
                }
                "latency-ms" => {
                    config.latency_ms = value
                        .parse()
                        .map_err(|_| format!("latency-ms {value:?} is not a number"))?
                }
                "retry-after" => {
                    config.retry_after_secs = value
                        .parse()
                        .map_err(|_| format!("retry-after {value:?} is not a number"))?
                }
                "paths" => config.paths = value.split('+').map(str::to_owned).collect(),
                "kinds" => {
                    config.kinds = value
                        .split('+')
                        .map(|k| {
                            FaultKind::parse(k).ok_or_else(|| {
                                let known: Vec<&str> =
                                    FaultKind::ALL.iter().map(|k| k.name()).collect();
                                format!("unknown fault kind {k:?} (known: {})", known.join(", "))
                            })
                        })
                        .collect::<Result<_, _>>()?;
                }
                other => return Err(format!("unknown fault option {other:?}")),
            }
        }
        Ok(config)
    }
}

/// A canned answer for every API request whose path starts with a prefix, for testing how a
/// client copes with answers the real service should never give (huge, nested, mistyped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CannedResponse {
    /// Requests whose path starts with this are answered with the canned response.
    pub path_prefix: String,
    /// HTTP status.
    #[cfg_attr(feature = "uniffi", uniffi(default = 200))]
    pub status: u16,
    /// `Content-Type` header.
    #[cfg_attr(feature = "uniffi", uniffi(default = "application/json"))]
    pub content_type: String,
    /// The body.
    pub body: String,
}

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Lifetime of the tokens it issues. Default 1 hour.
    pub token_ttl: Duration,
    /// Injected faults. Default none.
    pub faults: FaultConfig,
    /// The credentials it accepts.
    pub credentials: SimCredentials,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            token_ttl: Duration::from_secs(3600),
            faults: FaultConfig::default(),
            credentials: SimCredentials::default(),
        }
    }
}

/// Shared by the server and the handle.
pub(crate) struct App {
    pub(crate) base_url: String,
    world: Mutex<World>,
    faults: Mutex<(FaultConfig, u64)>,
    canned: Mutex<Vec<CannedResponse>>,
}

impl App {
    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn world<T, E>(&self, f: impl FnOnce(&mut World) -> Result<T, E>) -> Result<T, E> {
        f(&mut self.lock())
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.lock().clock_offset += by;
    }

    pub(crate) fn set_canned(&self, canned: CannedResponse) {
        let mut list = self.canned.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|c| c.path_prefix != canned.path_prefix);
        list.push(canned);
    }

    fn canned_for(&self, path: &str) -> Option<CannedResponse> {
        let list = self.canned.lock().unwrap_or_else(|p| p.into_inner());
        list.iter()
            .find(|c| path.starts_with(c.path_prefix.as_str()))
            .cloned()
    }

    pub(crate) fn set_faults(&self, config: FaultConfig) {
        let seed = config.seed;
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = (config, seed);
    }

    /// Draws the fault for the next API request (SplitMix64, so a seed replays the same sequence).
    fn draw_fault(&self, path: &str) -> Option<(FaultKind, FaultConfig)> {
        let mut guard = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let (config, rng) = &mut *guard;
        if config.rate <= 0.0 || config.kinds.is_empty() {
            return None;
        }
        if !config.paths.is_empty() && !config.paths.iter().any(|p| path.starts_with(p.as_str())) {
            return None;
        }
        let mut next = || {
            *rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let roll = (next() >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= config.rate {
            return None;
        }
        let kind = config.kinds[(next() % config.kinds.len() as u64) as usize];
        Some((kind, config.clone()))
    }

    fn record(&self, method: &str, path: &str, status: u16, fault: Option<FaultKind>) {
        self.lock().requests.push(RequestRecord {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            fault: fault.map(|f| f.name().to_owned()),
        });
    }

    pub(crate) fn snapshot(&self) -> serde_json::Value {
        let w = self.lock();
        serde_json::json!({
            "now_unix": w.now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "reseller_id": w.reseller_id,
            "token_requests": {
                "reseller": w.token_requests.get("reseller").copied().unwrap_or(0),
                "enterprise": w.token_requests.get("enterprise").copied().unwrap_or(0),
            },
            "enterprises": w.enterprises,
            "consents": w.consents,
            "requests": w.requests,
        })
    }
}

/// Posts a callback to its redirect URL when that URL is on a loopback host (the simulator never
/// sends traffic anywhere else). Failures are logged, not returned: nobody may be listening.
pub(crate) async fn post_callback(callback: &Callback) -> bool {
    let Ok(url) = url::Url::parse(&callback.url) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if !loopback {
        return false;
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(_) => return false,
    };
    match client.post(url).json(&callback.body).send().await {
        Ok(r) => {
            tracing::debug!(status = r.status().as_u16(), "callback posted");
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "callback not delivered");
            false
        }
    }
}

/// A running simulator. Dropping it (or [`Simulator::close`]) stops the server.
pub struct Simulator {
    app: Arc<App>,
    base_url: String,
    credentials: SimCredentials,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts a simulator on 127.0.0.1 in a thread of its own, and returns once it listens.
    pub fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let std_listener =
            std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port)))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let app = Arc::new(App {
            base_url: base_url.clone(),
            world: Mutex::new(World::new(config.credentials.clone(), config.token_ttl)),
            faults: Mutex::new((config.faults.clone(), config.faults.seed)),
            canned: Mutex::new(Vec::new()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server_app = app.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ctt-sim")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("ctt-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(listener) => serve(listener, server_app, rx).await,
                        Err(e) => tracing::error!(error = %e, "simulator could not listen"),
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(Simulator {
            app,
            base_url,
            credentials: config.credentials,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &SimCredentials {
        &self.credentials
    }

    /// The reseller id of its one reseller.
    pub fn reseller_id(&self) -> i64 {
        self.app.lock().reseller_id
    }

    /// The simulator's current time.
    pub fn now(&self) -> SystemTime {
        self.app.lock().now()
    }

    /// Moves the simulator's clock forward (tokens and MSAL results expire, the 30-minute wait passes).
    pub fn advance_clock(&self, by: Duration) {
        self.app.advance_clock(by);
    }

    /// Replaces the fault configuration (and restarts its sequence from the seed).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.app.set_faults(faults);
    }

    /// Answers every API request under `canned.path_prefix` with `canned` (replacing an earlier
    /// one for the same prefix) until [`Simulator::clear_canned`].
    pub fn set_canned(&self, canned: CannedResponse) {
        self.app.set_canned(canned);
    }

    /// Removes every canned response.
    pub fn clear_canned(&self) {
        self.app
            .canned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Changes the lifetime of tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.app.lock().token_ttl = ttl;
    }

    /// Changes the lifetime of the MSAL results the consent screen issues from now on (default
    /// one hour, as Microsoft's access tokens).
    pub fn set_msal_ttl(&self, ttl: Duration) {
        self.app.lock().msal_ttl = ttl;
    }

    /// Acts as `tenant`'s admin on an action item URL the API returned: signs in, accepts, and
    /// returns the callback. When the redirect URL is on a loopback host, the callback is also
    /// posted there (failures to deliver are ignored: nobody may be listening).
    pub async fn approve(&self, url: &str, tenant: &str) -> Result<Callback, SimError> {
        let callback = self.approve_without_posting(url, tenant)?;
        post_callback(&callback).await;
        Ok(callback)
    }

    /// Like [`Simulator::approve`], but never posts the callback anywhere.
    pub fn approve_without_posting(&self, url: &str, tenant: &str) -> Result<Callback, SimError> {
        let parsed = url::Url::parse(url).map_err(|e| SimError {
            status: 400,
            message: format!("not a URL: {e}"),
        })?;
        let state = parsed
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| SimError {
                status: 400,
                message: "the URL has no state parameter".into(),
            })?;
        self.app.world(|w| w.approve(&state, tenant))
    }

    /// The redirect URL a pending action item URL will post its callback to, without approving
    /// it: for tests that post a body of their own choosing there, as an attacker would.
    pub fn redirect_url_of(&self, url: &str) -> Option<String> {
        let parsed = url::Url::parse(url).ok()?;
        let state = parsed
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())?;
        self.app
            .world(|w| Ok::<_, SimError>(w.pending.get(&state).map(|p| p.redirect_url.clone())))
            .ok()
            .flatten()
    }

    /// Every API request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.lock().requests.clone()
    }

    /// Token requests that succeeded, by level (`reseller`, `enterprise`).
    pub fn token_requests(&self, level: &str) -> u64 {
        self.app
            .lock()
            .token_requests
            .get(level)
            .copied()
            .unwrap_or(0)
    }

    /// The enterprises it holds.
    pub fn enterprises(&self) -> Vec<SimEnterprise> {
        self.app.lock().enterprises.clone()
    }

    /// The consents granted so far.
    pub fn consents(&self) -> Vec<ConsentRecord> {
        self.app.lock().consents.clone()
    }

    /// Everything above as JSON (the same as `GET /_sim/state`).
    pub fn snapshot(&self) -> serde_json::Value {
        self.app.snapshot()
    }

    /// Stops the server and waits for its thread.
    pub fn close(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let router = routes::router(app.clone());
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                handle(app.clone(), router.clone(), req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Resp = hyper::Response<axum::body::Body>;

/// One request: draw a fault, route, record.
async fn handle(
    app: Arc<App>,
    router: axum::Router,
    req: hyper::Request<Incoming>,
) -> Result<Resp, std::io::Error> {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let is_api = !(path.starts_with("/_sim")
        || path.starts_with("/common/oauth2")
        || path.starts_with("/restricted"));
    let fault = if is_api { app.draw_fault(&path) } else { None };
    let req = req.map(axum::body::Body::new);
    let request_id = uuid::Uuid::new_v4().to_string();
    let kind = fault.as_ref().map(|(k, _)| *k);
    let early = |status: u16, retry_after: Option<u64>| {
        let mut builder = hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("x-request-id", request_id.as_str());
        if let Some(s) = retry_after {
            builder = builder.header("retry-after", s.to_string());
        }
        let body = serde_json::json!({"status": status, "error": "injected fault", "message": "simulated failure"});
        builder
            .body(axum::body::Body::from(body.to_string()))
            .map_err(std::io::Error::other)
    };
    if is_api && let Some(canned) = app.canned_for(&path) {
        app.record(&method, &path, canned.status, None);
        return hyper::Response::builder()
            .status(canned.status)
            .header("content-type", canned.content_type.as_str())
            .header("x-request-id", request_id.as_str())
            .body(axum::body::Body::from(canned.body))
            .map_err(std::io::Error::other);
    }
    match &fault {
        Some((FaultKind::DropBeforeRead, _)) => {
            if is_api {
                app.record(&method, &path, 0, kind);
            }
            return Err(std::io::Error::other(
                "injected fault: connection dropped before reading",
            ));
        }
        Some((FaultKind::TooManyRequests, c)) => {
            app.record(&method, &path, 429, kind);
            return early(429, Some(c.retry_after_secs));
        }
        Some((FaultKind::Unavailable, c)) => {
            app.record(&method, &path, 503, kind);
            return early(503, Some(c.retry_after_secs));
        }
        Some((FaultKind::InternalError, _)) => {
            app.record(&method, &path, 500, kind);
            return early(500, None);
        }
        Some((FaultKind::BadGateway, _)) => {
            app.record(&method, &path, 502, kind);
            return early(502, None);
        }
        Some((FaultKind::Latency, c)) => {
            tokio::time::sleep(Duration::from_millis(c.latency_ms)).await
        }
        _ => {}
    }
    let response = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    if is_api {
        app.record(
            &method,
            &path,
            if kind == Some(FaultKind::DropAfterRead) {
                0
            } else {
                status
            },
            kind,
        );
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        "x-request-id",
        hyper::header::HeaderValue::from_str(&request_id).map_err(std::io::Error::other)?,
    );
    match kind {
        Some(FaultKind::DropAfterRead) => Err(std::io::Error::other(
            "injected fault: connection dropped after acting",
        )),
        Some(FaultKind::TruncatedBody) => {
            // Promise more than is sent, send part of it, then fail the stream: hyper closes the
            // connection mid-body, as a crashed proxy would.
            let bytes = body
                .collect()
                .await
                .map_err(std::io::Error::other)?
                .to_bytes();
            let claimed = bytes.len() + 16;
            parts.headers.insert(
                hyper::header::CONTENT_LENGTH,
                hyper::header::HeaderValue::from(claimed),
            );
            let part = bytes.slice(0..bytes.len() / 2);
            let frames = futures::stream::iter(vec![
                Ok::<_, std::io::Error>(part),
                Err(std::io::Error::other("injected fault: body truncated")),
            ]);
            Ok(hyper::Response::from_parts(
                parts,
                axum::body::Body::from_stream(frames),
            ))
        }
        _ => Ok(hyper::Response::from_parts(parts, body)),
    }
}

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
