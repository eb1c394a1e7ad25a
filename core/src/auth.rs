//! Bearer tokens: fetched lazily, cached, shared, and renewed before they expire.
//!
//! A portal may fire many calls at once right after start-up. The cache is a single async mutex
//! held across the fetch, so concurrent first calls wait for one token request instead of each
//! sending their own; a renewal a minute before expiry or after a 401 goes the same way.
//!
//! The cache ([`TokenCache`]) is kept apart from where tokens come from ([`TokenSource`]) because
//! it belongs to one process: a child forked while a parent thread held the mutex for a fetch
//! would wait on it forever, so the client gives each process a cache of its own.

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
/// The longest lifetime believed: a token that claims to live longer is renewed after a day
/// anyway, and no claimed lifetime can overflow the clock's arithmetic.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

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

/// Where one level's token comes from.
#[derive(Debug)]
pub(crate) struct TokenSource {
    pub(crate) level: TokenLevel,
    pub(crate) origin: TokenOrigin,
}

/// One level's cached token, for one process; its mutex is held across a fetch (single flight).
#[derive(Debug, Default)]
pub(crate) struct TokenCache(Mutex<Option<Cached>>);

/// The OAuth2 token response (ASSUMED shape: the usual fields).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: Secret,
    #[serde(default)]
    pub(crate) expires_in: Option<serde_json::Value>,
}

impl TokenSource {
    pub(crate) fn new(level: TokenLevel, origin: TokenOrigin) -> Self {
        Self { level, origin }
    }

    /// True when a 401 can be cured by fetching a new token.
    pub(crate) fn is_renewable(&self) -> bool {
        matches!(self.origin, TokenOrigin::Grant(_))
    }

    /// A valid token, fetching one with `fetch` when none is in `cache` or it is due for renewal.
    pub(crate) async fn get<F, Fut>(
        &self,
        cache: &TokenCache,
        clock: &SharedClock,
        fetch: F,
    ) -> Result<Secret>
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
        let mut cache = cache.0.lock().await;
        let now = clock.now();
        if let Some(cached) = cache.as_ref().filter(|c| c.renew_at > now) {
            return Ok(cached.token.clone());
        }
        tracing::debug!(level = self.level.name(), "fetching a token");
        let response = fetch(creds).await?;
        if response.access_token.is_empty() {
            return Err(Error::decode("token response has an empty access_token"));
        }
        let now = clock.now();
        let lifetime = lifetime_of(&response, now);
        // The lifetime is capped, so this cannot overflow; if the clock itself sits at the end of
        // time, the token is simply renewed on the next call.
        let renew_at = now.checked_add(renew_after(lifetime)).unwrap_or(now);
        let token = response.access_token.clone();
        *cache = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        Ok(token)
    }

    /// Forgets `stale` after the API refused it, so the next call fetches a new one.
    pub(crate) async fn invalidate(&self, cache: &TokenCache, stale: &Secret) {
        let mut cache = cache.0.lock().await;
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

/// `expires_in` (a number or numeric string), else the JWT's `exp`, else one hour; never more
/// than [`MAX_LIFETIME`], whatever the server claims.
fn lifetime_of(response: &TokenResponse, now: SystemTime) -> Duration {
    let from_field = response.expires_in.as_ref().and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    if let Some(secs) = from_field {
        return Duration::from_secs(secs).min(MAX_LIFETIME);
    }
    jwt_exp(response.access_token.expose())
        .and_then(|exp| UNIX_EPOCH.checked_add(Duration::from_secs(exp)))
        .and_then(|at| at.duration_since(now).ok())
        .map_or(DEFAULT_LIFETIME, |d| d.min(MAX_LIFETIME))
}

/// The HTTP Basic credentials of the token call, as RFC 6749 §2.3.1 has them: the client id and
/// secret each `application/x-www-form-urlencoded` first, then joined with `:` and Base64'd. So
/// a `:` in the id, or `%`, `+` and non-ASCII in either, reach the server as they are.
pub(crate) fn basic_client_auth(client_id: &str, client_secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(client_secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
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
    fn huge_lifetimes_are_capped_not_overflowed() {
        let now = SystemTime::now();
        for expires_in in [
            serde_json::json!(u64::MAX),
            serde_json::json!("18446744073709551615"),
        ] {
            let r = TokenResponse {
                access_token: Secret::new("x"),
                expires_in: Some(expires_in),
            };
            assert_eq!(lifetime_of(&r, now), MAX_LIFETIME);
        }
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{{\"exp\":{}}}", u64::MAX));
        let r = TokenResponse {
            access_token: Secret::new(format!("eyJh.{claims}.sig")),
            expires_in: None,
        };
        assert_eq!(lifetime_of(&r, now), DEFAULT_LIFETIME);
    }

    #[test]
    fn client_authentication_is_form_encoded_then_base64() {
        let header = basic_client_auth("id:1", "s3:cr%et+ü ");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header.trim_start_matches("Basic "))
            .expect("base64");
        assert_eq!(
            String::from_utf8(decoded).expect("utf-8"),
            "id%3A1:s3%3Acr%25et%2B%C3%BC+"
        );
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
