//! Sending one call: its URL, bearer token, retries under the policy's deadline, and the size cap.
//!
//! Whether an attempt may be repeated is decided here once for every endpoint: only when the
//! endpoint is idempotent or the request surely never reached the server.

use super::Client;
use super::failure::{Failure, request_id, transport_failure};
use crate::auth::{TokenLevel, TokenSource};
use crate::config::{Endpoint, Route};
use crate::error::{Error, ErrorCode, Result};
use crate::models::AuthenticationResult;
use crate::secret::Secret;
use reqwest::header::HeaderMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tracing::Instrument as _;

/// What a call sends.
pub(super) enum Body {
    Empty,
    Json(serde_json::Value),
    Text(String),
}

/// An answer with a success status.
pub(super) struct Answer {
    pub(super) body: Vec<u8>,
}

impl Client {
    pub(super) async fn request(
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
    pub(super) async fn call_with_msal(
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

    pub(super) fn tokens(&self, level: TokenLevel) -> &TokenSource {
        match level {
            TokenLevel::Reseller => &self.inner.reseller_tokens,
            TokenLevel::Enterprise => &self.inner.enterprise_tokens,
        }
    }

    pub(super) fn random(&self) -> f64 {
        // xorshift64*: jitter needs spread, not cryptographic quality.
        let mut x = self.inner.rng.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.inner.rng.store(x, Ordering::Relaxed);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn url_for(
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
    pub(super) async fn call_inner(
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
    pub(super) async fn call_within_deadline(
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

    /// Sends a request and reads the body under the size cap.
    pub(super) async fn send(
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
        let too_large = || Failure {
            error: Error::decode(format!(
                "{} response is larger than the {cap}-byte cap",
                endpoint.name()
            ))
            .with_status(status)
            .with_request_id(request_id(&headers)),
            maybe_sent: true,
            transient: false,
        };
        if response
            .content_length()
            .is_some_and(|len| len as usize > cap)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return Err(too_large());
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
}

/// True when waiting `wait` more still ends within `deadline` of `started`.
pub(super) fn fits_deadline(
    started: tokio::time::Instant,
    deadline: Duration,
    wait: Duration,
) -> bool {
    started
        .elapsed()
        .checked_add(wait)
        .is_some_and(|total| total < deadline)
}
