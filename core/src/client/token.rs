//! Fetching the password-grant tokens, and what a refused token answer may show.

use super::Client;
use super::failure::EXCERPT_LIMIT;
use super::http::fits_deadline;
use super::process::ProcessState;
use crate::auth::{TokenLevel, TokenResponse, basic_client_auth};
use crate::config::{Credentials, Endpoint};
use crate::error::{Error, ErrorCode, Result};
use crate::secret::{Secret, redact_excerpt};

impl Client {
    pub(super) async fn token(&self, state: &ProcessState, level: TokenLevel) -> Result<Secret> {
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
}

/// What a failed token answer may show: only the OAuth2 `error` and `error_description` fields.
/// Anything else the token endpoint sends may be a token, so it is withheld.
pub(super) fn token_error_excerpt(text: &str, known: &[&str]) -> String {
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

fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the expected shape",
        serde_json::error::Category::Eof => "cut off",
    }
}
