//! The Node.js binding of ctt-onboard: the npm package `ctt-onboard`.
//!
//! This crate only converts arguments, maps errors and hands futures to napi's tokio runtime
//! (through [`promise`], which settles their Promises);
//! every rule of the onboarding lives in the core crate. The package's small JavaScript layer
//! (`lib/`) turns encoded errors into `CttError` and provides the ES module entry point.

// The `#[napi]` macros expand to the FFI glue (unsafe extern functions) this crate exists for.
// The only unsafe blocks written here are in `promise`: the napi C calls of its completion queue,
// each with its SAFETY comment.
#![allow(unsafe_code)]
// Under `cargo test` napi registers nothing, so the exported functions look unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod convert;
mod error;
mod keys;
mod logging;
mod onboarding;
mod promise;
mod simulator;
