//! The portal's callback keys: which key signs new URLs, which older ones still verify.
//!
//! A ring rather than one key so a portal can rotate its secret without breaking the URLs already
//! sitting in Global Admins' inboxes, and retire a leaked key at once by its id.

use super::{DEFAULT_MAX_AGE, MIN_KEY_LEN, hex};
use crate::clock::{SharedClock, SystemClock};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const MAX_KEY_ID_LEN: usize = 32;

/// One key of a [`CallbackKeys`] ring: an id carried in every URL it tags, and the secret bytes.
#[derive(Clone)]
pub struct CallbackKey {
    pub(super) id: String,
    pub(super) secret: Arc<Vec<u8>>,
}

impl CallbackKey {
    /// A key with an explicit id (1 to 32 characters of `A-Z a-z 0-9 - _ .`); the secret is at
    /// least [`MIN_KEY_LEN`] bytes. A string secret is taken as its UTF-8 bytes.
    pub fn new(id: impl Into<String>, secret: impl AsRef<[u8]>) -> Result<Self> {
        let id = id.into();
        if id.is_empty()
            || id.len() > MAX_KEY_ID_LEN
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(Error::invalid_input(format!(
                "callback key id {id:?} must be 1 to {MAX_KEY_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_' or '.'"
            )));
        }
        let secret = secret.as_ref();
        if secret.len() < MIN_KEY_LEN {
            return Err(Error::invalid_input(format!(
                "callback key {id:?} is {} bytes; it must be at least {MIN_KEY_LEN} bytes",
                secret.len()
            )));
        }
        Ok(Self {
            id,
            secret: Arc::new(secret.to_vec()),
        })
    }

    /// A key whose id is derived from its secret (`k` and 8 hex digits of a SHA-256 of it), for
    /// a portal with one key: the same secret always gets the same id.
    pub fn derived(secret: impl AsRef<[u8]>) -> Result<Self> {
        let secret = secret.as_ref();
        let mut h = Sha256::new();
        h.update(b"ctt-onboard/callback-key-id\n");
        h.update(secret);
        let id = format!("k{}", hex(&h.finalize()[..4]));
        Self::new(id, secret)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for CallbackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallbackKey({:?}, ***)", self.id)
    }
}

/// The portal's callback keys: one that signs new URLs, older ones that still verify, the ids of
/// retired ones (their URLs fail saying so), how long a URL answers, and the clock that judges it.
///
/// Keys never go into a flow's JSON; only a key's id travels in the URLs.
#[derive(Clone)]
pub struct CallbackKeys {
    pub(super) signing: CallbackKey,
    verifying: Vec<CallbackKey>,
    pub(super) retired: Vec<String>,
    pub(super) max_age: Duration,
    clock: Option<SharedClock>,
}

impl CallbackKeys {
    /// A ring whose signing key is `key`.
    pub fn new(key: CallbackKey) -> Self {
        Self {
            signing: key,
            verifying: Vec::new(),
            retired: Vec::new(),
            max_age: DEFAULT_MAX_AGE,
            clock: None,
        }
    }

    /// A ring of one key with a derived id ([`CallbackKey::derived`]).
    pub fn single(secret: impl AsRef<[u8]>) -> Result<Self> {
        CallbackKey::derived(secret).map(Self::new)
    }

    /// Adds an older key that still verifies the URLs it tagged (it signs nothing new).
    pub fn with_verify_key(mut self, key: CallbackKey) -> Result<Self> {
        if key.id == self.signing.id || self.verifying.iter().any(|k| k.id == key.id) {
            return Err(Error::invalid_input(format!(
                "callback key id {:?} is in the ring twice",
                key.id
            )));
        }
        self.verifying.push(key);
        Ok(self)
    }

    /// Marks a key id as retired: URLs it tagged are refused with a message that says so.
    pub fn with_retired(mut self, id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if self.key(&id).is_some() {
            return Err(Error::invalid_input(format!(
                "callback key id {id:?} cannot be both in the ring and retired"
            )));
        }
        self.retired.push(id);
        Ok(self)
    }

    /// How long a tagged URL answers (default [`DEFAULT_MAX_AGE`]); at least one minute.
    pub fn with_max_age(mut self, max_age: Duration) -> Result<Self> {
        if max_age < Duration::from_secs(60) {
            return Err(Error::invalid_input(format!(
                "callback max_age is {} s; it must be at least 60 s",
                max_age.as_secs()
            )));
        }
        self.max_age = max_age;
        Ok(self)
    }

    /// A ring from plain parts, as a host's options object gives them: the signing key (an id,
    /// or `None` to derive it from the secret), older keys that still verify (id and secret),
    /// retired ids, and how long a URL answers. Errors are `invalid_input` naming the part
    /// (`callbackKeys.verify[1]: ...`), so every binding reports a bad ring the same way.
    pub fn from_parts(
        signing: (Option<String>, &[u8]),
        verify: &[(String, Vec<u8>)],
        retired: &[String],
        max_age: Option<Duration>,
    ) -> Result<Self> {
        let at = |part: String| {
            move |e: Error| Error::invalid_input(format!("callbackKeys.{part}: {}", e.message()))
        };
        let (id, secret) = signing;
        let key = match id {
            Some(id) => CallbackKey::new(id, secret),
            None => CallbackKey::derived(secret),
        }
        .map_err(at("signing".into()))?;
        let mut ring = Self::new(key);
        for (i, (id, secret)) in verify.iter().enumerate() {
            ring = CallbackKey::new(id.clone(), secret)
                .and_then(|k| ring.with_verify_key(k))
                .map_err(at(format!("verify[{i}]")))?;
        }
        for (i, id) in retired.iter().enumerate() {
            ring = ring
                .with_retired(id.clone())
                .map_err(at(format!("retired[{i}]")))?;
        }
        if let Some(max_age) = max_age {
            ring = ring.with_max_age(max_age).map_err(at("maxAge".into()))?;
        }
        Ok(ring)
    }

    /// The clock that stamps and judges URLs (default the system clock; a client built with
    /// this ring and a clock of its own lends it its clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub(crate) fn has_clock(&self) -> bool {
        self.clock.is_some()
    }

    /// The id of the key that signs new URLs.
    pub fn signing_key_id(&self) -> &str {
        &self.signing.id
    }

    /// How long a tagged URL answers.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The time on the ring's clock.
    pub fn now(&self) -> SystemTime {
        match &self.clock {
            Some(c) => c.now(),
            None => crate::clock::Clock::now(&SystemClock),
        }
    }

    /// The keys that are UTF-8 text, as secrets for masking (a portal may have pasted one into a
    /// URL or a body).
    pub(crate) fn text_secrets(&self) -> Vec<crate::secret::Secret> {
        std::iter::once(&self.signing)
            .chain(self.verifying.iter())
            .filter_map(|k| std::str::from_utf8(&k.secret).ok())
            .map(crate::secret::Secret::from)
            .collect()
    }

    pub(super) fn key(&self, id: &str) -> Option<&CallbackKey> {
        std::iter::once(&self.signing)
            .chain(self.verifying.iter())
            .find(|k| k.id == id)
    }
}

impl fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackKeys")
            .field("signing", &self.signing)
            .field("verifying", &self.verifying)
            .field("retired", &self.retired)
            .field("max_age", &self.max_age)
            .finish()
    }
}
