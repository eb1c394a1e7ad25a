//! `CallbackKeys`: core's key ring ([`ctt_onboard::CallbackKeys`]). Keys are bytes (a string is
//! its UTF-8); the secrets stay in Rust, the JavaScript object shows only the signing key's id.

use crate::client::ManualClock;
use crate::error::{IntoNapi, invalid_input};
use ctt_onboard as core;
use napi::Either;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;

/// A callback key: the secret, and an id the URLs it tags carry.
#[napi(object)]
pub struct CallbackKeyOptions {
    /// 1 to 32 characters of `A-Z a-z 0-9 - _ .`. Default: derived from the secret.
    pub id: Option<String>,
    /// The secret: at least 16 bytes; a string is its UTF-8 bytes.
    #[napi(ts_type = "string | Buffer | Uint8Array")]
    pub key: Either<String, Buffer>,
}

/// A key ring: the key that signs new URLs, older keys that still verify, retired ids, max age.
#[napi(object)]
pub struct CallbackKeysOptions {
    /// The key that signs every new URL (and verifies its own).
    pub signing: CallbackKeyOptions,
    /// Older keys that still verify the URLs they tagged; they sign nothing new.
    pub verify: Option<Vec<CallbackKeyOptions>>,
    /// Ids of retired keys: a URL tagged by one is refused (`callback_invalid`, "retired").
    pub retired: Option<Vec<String>>,
    /// How long a tagged URL answers, in seconds (at least 60). Default 259200 (72 hours).
    pub max_age_seconds: Option<f64>,
}

/// The bytes of a key given as a string (its UTF-8) or as bytes.
fn key_bytes(key: &Either<String, Buffer>) -> &[u8] {
    match key {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

/// Builds the core ring from the JavaScript options ([`core::CallbackKeys::from_parts`]);
/// `invalid_input` names the bad field as JavaScript spells it.
fn ring_from_js(options: &CallbackKeysOptions) -> core::Result<core::CallbackKeys> {
    let verify: Vec<_> = (options.verify.iter().flatten())
        .map(|k| {
            let secret = key_bytes(&k.key);
            let derived = || core::CallbackKey::derived(secret).map(|k| k.id().to_owned());
            // A secret too short for an id of its own is refused by from_parts, naming it.
            let id = k.id.clone().or_else(|| derived().ok());
            (id.unwrap_or_else(|| "k".into()), secret.to_vec())
        })
        .collect();
    let max_age = options.max_age_seconds.map(|secs| {
        Duration::try_from_secs_f64(secs).map_err(|_| {
            core::Error::invalid_input(format!(
                "callbackKeys.maxAgeSeconds must be a number of seconds, at least 60; got {secs}"
            ))
        })
    });
    let signing = (options.signing.id.clone(), key_bytes(&options.signing.key));
    let retired = options.retired.as_deref().unwrap_or_default();
    core::CallbackKeys::from_parts(signing, &verify, retired, max_age.transpose()?).map_err(|e| {
        let message =
            e.message()
                .replacen("callbackKeys.maxAge:", "callbackKeys.maxAgeSeconds:", 1);
        core::Error::invalid_input(message)
    })
}

/// The portal's callback key ring, for `handleCallback` and `verifyCallback`. Its secrets never
/// leave the native module; `signingKeyId` and `maxAgeSeconds` are all it shows.
#[napi]
pub struct CallbackKeys {
    pub(crate) inner: core::CallbackKeys,
}

#[napi]
impl CallbackKeys {
    /// A ring from `options`; `invalid_input` names what is wrong. `clock` (a test knob) judges a
    /// URL's age; default the system clock.
    #[napi(catch_unwind, constructor)]
    pub fn new(options: CallbackKeysOptions, clock: Option<&ManualClock>) -> napi::Result<Self> {
        let ring = ring_from_js(&options).napi()?;
        let inner = match clock {
            Some(clock) => ring.with_clock(Arc::new(clock.inner.clone())),
            None => ring,
        };
        Ok(Self { inner })
    }

    /// A ring of one key with a derived id, as `callbackKey` on the client options makes.
    #[napi(
        catch_unwind,
        factory,
        js_name = "fromKey",
        ts_args_type = "key: string | Buffer | Uint8Array"
    )]
    pub fn from_key(key: Either<String, Buffer>) -> napi::Result<Self> {
        let inner = core::CallbackKeys::single(key_bytes(&key))
            .map_err(|e| invalid_input(format!("callbackKey: {}", e.message())))?;
        Ok(Self { inner })
    }

    /// The id of the key that signs new URLs.
    #[napi(catch_unwind, getter)]
    pub fn signing_key_id(&self) -> String {
        self.inner.signing_key_id().to_owned()
    }

    /// How long a tagged URL answers, in seconds.
    #[napi(catch_unwind, getter)]
    pub fn max_age_seconds(&self) -> f64 {
        self.inner.max_age().as_secs_f64()
    }
}
