//! Bearer tokens: fetched lazily, cached, shared, and renewed before they expire.
//!
//! A portal may fire many calls at once right after start-up. The cache is a single async mutex
//! held across the fetch, so concurrent first calls wait for one token request instead of each
//! sending their own; a renewal a minute before expiry or after a 401 goes the same way.

use crate::clock::SharedClock;
use crate::config::Credentials;
use crate::error::{Error, ErrorCode, Result};
use crate::secret::Secret;
use base64::Engine as _;
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// Renew this long before the token expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime assumed when neither `expires_in` nor a JWT `exp` says.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The level of a token: the vendor's `/enterprise/*` and `/reseller/*` calls take the reseller
/// one, `/provisioning/*` the enterprise one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenLevel {
    Reseller,
    Enterprise,
}

impl TokenLevel {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokenLevel::Reseller => "reseller",
            TokenLevel::Enterprise => "enterprise",
        }
    }
}

/// Where a level's token comes from.
#[derive(Debug)]
pub(crate) enum TokenOrigin {
    /// Exchanged by the password grant.
    Grant(Credentials),
    /// Supplied by the caller; never renewed.
    Fixed(Secret),
    /// Not configured; the text says what to configure.
    Missing(&'static str),
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    renew_at: SystemTime,
}

/// One level's token and how to get it.
#[derive(Debug)]
pub(crate) struct TokenSource {
    pub(crate) level: TokenLevel,
    pub(crate) origin: TokenOrigin,
    cache: Mutex<Option<Cached>>,
}

/// The OAuth2 token response (ASSUMED shape: the usual fields).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: Secret,
    #[serde(default)]
    pub(crate) expires_in: Option<serde_json::Value>,
}

impl TokenSource {
    pub(crate) fn new(level: TokenLevel, origin: TokenOrigin) -> Self {
        Self {
            level,
            origin,
            cache: Mutex::new(None),
        }
    }

    /// True when a 401 can be cured by fetching a new token.
    pub(crate) fn is_renewable(&self) -> bool {
        matches!(self.origin, TokenOrigin::Grant(_))
    }

    /// A valid token, fetching one with `fetch` when none is cached or it is due for renewal.
    pub(crate) async fn get<F, Fut>(&self, clock: &SharedClock, fetch: F) -> Result<Secret>
    where
        F: FnOnce(Credentials) -> Fut,
        Fut: std::future::Future<Output = Result<TokenResponse>>,
    {
        let creds = match &self.origin {
            TokenOrigin::Fixed(token) => return Ok(token.clone()),
            TokenOrigin::Missing(what) => {
                return Err(Error::new(ErrorCode::Authentication, *what));
            }
            TokenOrigin::Grant(creds) => creds.clone(),
        };
        let mut cache = self.cache.lock().await;
        let now = clock.now();
        if let Some(cached) = cache.as_ref().filter(|c| c.renew_at > now) {
            return Ok(cached.token.clone());
        }
        tracing::debug!(level = self.level.name(), "fetching a token");
        let response = fetch(creds).await?;
        if response.access_token.is_empty() {
            return Err(Error::decode("token response has an empty access_token"));
        }
        let lifetime = lifetime_of(&response, clock.now());
        let renew_at = clock.now() + renew_after(lifetime);
        let token = response.access_token.clone();
        *cache = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        Ok(token)
    }

    /// Forgets `stale` after the API refused it, so the next call fetches a new one.
    pub(crate) async fn invalidate(&self, stale: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == stale) {
            *cache = None;
        }
    }
}

fn renew_after(lifetime: Duration) -> Duration {
    if lifetime > RENEW_MARGIN * 2 {
        lifetime - RENEW_MARGIN
    } else {
        lifetime / 2
    }
}

/// `expires_in` (a number or numeric string), else the JWT's `exp`, else one hour.
fn lifetime_of(response: &TokenResponse, now: SystemTime) -> Duration {
    let from_field = response.expires_in.as_ref().and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    if let Some(secs) = from_field {
        return Duration::from_secs(secs);
    }
    jwt_exp(response.access_token.expose())
        .and_then(|exp| {
            (UNIX_EPOCH + Duration::from_secs(exp))
                .duration_since(now)
                .ok()
        })
        .unwrap_or(DEFAULT_LIFETIME)
}

/// The `exp` claim of a JWT-shaped token, without checking its signature (only the expiry is read).
fn jwt_exp(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_prefers_expires_in_then_jwt_then_default() {
        let now = SystemTime::now();
        let r = TokenResponse {
            access_token: Secret::new("x"),
            expires_in: Some(serde_json::json!(120)),
        };
        assert_eq!(lifetime_of(&r, now), Duration::from_secs(120));
        let r = TokenResponse {
            access_token: Secret::new("x"),
            expires_in: Some(serde_json::json!("90")),
        };
        assert_eq!(lifetime_of(&r, now), Duration::from_secs(90));
        let exp = now.duration_since(UNIX_EPOCH).expect("epoch").as_secs() + 600;
        let claims =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp}}}"));
        let r = TokenResponse {
            access_token: Secret::new(format!("eyJh.{claims}.sig")),
            expires_in: None,
        };
        let l = lifetime_of(&r, now).as_secs();
        assert!((598..=600).contains(&l), "{l}");
        let r = TokenResponse {
            access_token: Secret::new("opaque"),
            expires_in: None,
        };
        assert_eq!(lifetime_of(&r, now), DEFAULT_LIFETIME);
    }

    #[test]
    fn renewal_is_a_minute_early_or_halfway_for_short_tokens() {
        assert_eq!(
            renew_after(Duration::from_secs(3600)),
            Duration::from_secs(3540)
        );
        assert_eq!(
            renew_after(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
    }
}
