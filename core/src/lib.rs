//! ctt-onboard: the ConnecttoTeams restricted-access enterprise onboarding, as a library.
//!
//! Service providers who resell ConnecttoTeams walk each customer enterprise through a long
//! sequence: create the enterprise, have its Microsoft Global Admin register it and grant
//! consents, make sure the Teams Tenant Admin API is provisioned, and record management by the
//! service provider. This crate is the one implementation of that sequence; the Python, Node and
//! Kotlin packages are thin bindings over it.
//!
//! - [`Client`]: one async method per vendor endpoint, with token caching, safe retries and
//!   errors carrying a stable [`ErrorCode`].
//! - [`models`]: the vendor's bodies with the wire's names.
//! - [`Onboarding`]: Parts I to III of the vendor's guide as a resumable state machine, and
//!   [`callback`]: verifying what the vendor posts back.

#[doc(hidden)]
#[path = "bindings_support.rs"]
pub mod __bindings;
mod auth;
#[path = "bindings_runtime.rs"]
mod bindings_runtime;
pub mod callback;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
#[cfg(feature = "uniffi")]
mod ffi_uniffi;
mod logging;
pub mod models;
pub mod numbers;
pub mod onboarding;
#[cfg(feature = "schema")]
mod schema;
pub mod secret;
pub mod wire_time;
#[cfg(feature = "uniffi")]
pub use ffi_uniffi::CttError;

pub use callback::{
    CallbackKey, CallbackKeys, VerifiedCallback, claimed_flow_id, verify as verify_callback,
};
pub use client::{Client, ClientBuilder};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Credentials, Endpoint, EnterpriseAuth, RetryPolicy};
pub use error::{Error, ErrorCode, Result};
pub use models::*;
pub use onboarding::{
    CallbackOutcome, Checkpoint, FlowHandle, NoCheckpoint, Onboarding, OnboardingPlan, Progress,
    Step, StepState, StepStatus,
};
pub use secret::Secret;

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
