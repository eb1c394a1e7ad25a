//! `uniffi-bindgen`: generates the Kotlin bindings from the built binding library (library mode).
//!
//! It lives in its own crate so that uniffi's `cli` feature (clap, cargo metadata, the
//! generators) never becomes a feature of the binding crate: building `-p ctt-onboard-kotlin`
//! alone keeps the cdylib's features, so the library that is packaged is the one the bindings
//! were generated from.

fn main() {
    uniffi::uniffi_bindgen_main()
}
