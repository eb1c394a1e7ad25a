//! What a client owns per process, so a client built before `fork()` still works in the child.

use super::Client;
use crate::auth::{TokenCache, TokenLevel, TokenSource};
use crate::callback::CallbackKeys;
use crate::clock::SharedClock;
use crate::config::{Endpoint, RetryPolicy, Route};
use crate::error::{Error, Result};
use crate::secret::{Secret, redact_userinfo};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// How the HTTP client is built, kept so a forked child can build its own.
pub(super) struct HttpConfig {
    pub(super) user_agent: String,
    pub(super) connect_timeout: Duration,
    pub(super) timeout: Duration,
    pub(super) certs: Vec<reqwest::Certificate>,
    pub(super) proxy: Option<reqwest::Proxy>,
}

impl HttpConfig {
    pub(super) fn build(&self) -> Result<reqwest::Client> {
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
pub(super) struct ProcessState {
    pub(super) pid: u32,
    pub(super) http: reqwest::Client,
    pub(super) reseller_cache: TokenCache,
    pub(super) enterprise_cache: TokenCache,
    pub(super) reseller_id: tokio::sync::OnceCell<i64>,
    /// Tokens this process fetched lately, masked in every error body (an opaque token has no
    /// shape to recognise it by).
    pub(super) fetched: std::sync::Mutex<Vec<Secret>>,
}

/// How many fetched tokens are remembered for masking.
const FETCHED_TOKENS_KEPT: usize = 8;
/// How often a forked child tries the lock of its state slot before it stops waiting (the lock
/// may have been inherited taken from a parent thread that no longer exists).
const SLOT_TRIES: usize = 1000;

impl ProcessState {
    pub(super) fn new(pid: u32, http: reqwest::Client, reseller_id: Option<i64>) -> Self {
        Self {
            pid,
            http,
            reseller_cache: TokenCache::default(),
            enterprise_cache: TokenCache::default(),
            reseller_id: tokio::sync::OnceCell::new_with(reseller_id),
            fetched: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(super) fn cache(&self, level: TokenLevel) -> &TokenCache {
        match level {
            TokenLevel::Reseller => &self.reseller_cache,
            TokenLevel::Enterprise => &self.enterprise_cache,
        }
    }

    pub(super) fn remember_fetched(&self, token: &Secret) {
        let mut fetched = self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        if !fetched.contains(token) {
            if fetched.len() >= FETCHED_TOKENS_KEPT {
                fetched.remove(0);
            }
            fetched.push(token.clone());
        }
    }

    pub(super) fn fetched_tokens(&self) -> Vec<Secret> {
        self.fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub(super) struct Inner {
    /// The state of the process that built the client; `None` only while dropping.
    pub(super) home: Option<Arc<ProcessState>>,
    /// The state of a forked child (of the latest fork), built on its first call.
    pub(super) forked: std::sync::Mutex<Option<Arc<ProcessState>>>,
    pub(super) http_config: HttpConfig,
    /// The base URL as shown: its userinfo masked.
    pub(super) base_shown: String,
    pub(super) base: url::Url,
    pub(super) routes: HashMap<Endpoint, Route>,
    pub(super) reseller_tokens: TokenSource,
    pub(super) enterprise_tokens: TokenSource,
    pub(super) retry: RetryPolicy,
    pub(super) clock: SharedClock,
    pub(super) callback_keys: Option<CallbackKeys>,
    pub(super) max_response_bytes: usize,
    pub(super) known_secrets: Vec<Secret>,
    pub(super) rng: AtomicU64,
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

impl Client {
    /// This process's pool and token caches: the builder's, or in a forked child its own (see
    /// [`ProcessState`]).
    pub(super) fn process(&self) -> Result<Arc<ProcessState>> {
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
}
