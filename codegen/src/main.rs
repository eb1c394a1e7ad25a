//! ctt-codegen: the host-language types of every boundary shape, from the JSON Schema that
//! ctt-onboard and ctt-sim derive (feature `schema`, doc comments as descriptions).
//!
//! Each shape is declared once, in Rust, and so is each call (`ClientCall`, `SimCall`); this
//! writes what Python and TypeScript need of them: `bindings-python/python/ctt_onboard/_generated.py`
//! (the model classes, the open enums, the error codes, the client's methods),
//! `bindings-node/lib/generated.d.ts` (an interface or union per shape, the client's method
//! declarations) and `bindings-node/lib/generated.cjs` (the client's methods, the error codes).
//! The files are committed. `--write` rewrites them; `--check` rewrites nothing and exits 1 naming
//! each stale file (`make check-generated`, part of `make test`).

mod doc;
mod ir;
mod order;
mod python;
mod ts;

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Collects the definitions of the root shapes and the declaration order of their fields.
struct Roots {
    generator: SchemaGenerator,
    orders: BTreeMap<String, Vec<String>>,
    out_only: Vec<String>,
}

impl Roots {
    fn new() -> Self {
        Self {
            generator: SchemaSettings::draft2020_12().into_generator(),
            orders: BTreeMap::new(),
            out_only: Vec::new(),
        }
    }

    /// A shape whose field order serde's `Deserialize` tells.
    fn add<T: JsonSchema + DeserializeOwned>(&mut self) -> &mut Self {
        self.orders
            .insert(T::schema_name().into_owned(), order::of::<T>());
        self.generator.subschema_for::<T>();
        self
    }

    /// A shape that only serializes (its fields come out in the schema's order).
    fn add_out<T: JsonSchema>(&mut self) -> &mut Self {
        self.out_only.push(T::schema_name().into_owned());
        self.generator.subschema_for::<T>();
        self
    }
}

/// The models the Python package declares as classes (the rest crosses as dicts, or is
/// declared by the Python layer in its own manners).
const PYTHON_MODELS: &[&str] = &[
    "Service",
    "ActionType",
    "AuthenticatedUser",
    "SbcGateway",
    "PbxType",
    "EnterpriseSummary",
    "ConfigDetails",
    "EntConfigInfo",
    "NewEnterprise",
    "UserInfo",
    "AuthenticationResult",
    "MsalAuthenticationResult",
    "CallbackPayload",
    "O365UserInfo",
    "StepStatus",
    "Progress",
    "OnboardingPlan",
    "VerifiedCallback",
    "ErrorCode",
];

fn generate() -> Vec<(PathBuf, String)> {
    use ctt_onboard as core;
    let mut roots = Roots::new();
    roots
        .add::<core::Service>()
        .add::<core::ActionType>()
        .add::<core::ErrorCode>()
        .add::<core::AuthenticatedUser>()
        .add::<core::SbcGateway>()
        .add::<core::PbxType>()
        .add::<core::EnterpriseSummary>()
        .add::<core::ConfigDetails>()
        .add::<core::EntConfigInfo>()
        .add::<core::NewEnterprise>()
        .add::<core::UserInfo>()
        .add::<core::AuthenticationResult>()
        .add::<core::MsalAuthenticationResult>()
        .add::<core::CallbackPayload>()
        .add::<core::O365UserInfo>()
        .add::<core::ManagementConsentRequest>()
        .add::<core::OnboardingPlan>()
        .add::<core::Step>()
        .add::<core::StepState>()
        .add_out::<core::StepStatus>()
        .add_out::<core::VerifiedCallback>()
        .add::<core::Progress>()
        .add::<core::client::ClientOptions>()
        .add::<core::client::RetryOptions>()
        .add::<core::Credentials>()
        .add_out::<core::client::ClientCall>();
    roots
        .add::<ctt_sim::SimOptions>()
        .add::<ctt_sim::SimCredentials>()
        .add::<ctt_sim::FaultConfig>()
        .add::<ctt_sim::FaultKind>()
        .add::<ctt_sim::CannedResponse>()
        .add::<ctt_sim::SimTenant>()
        .add_out::<ctt_sim::Callback>()
        .add_out::<ctt_sim::RequestRecord>()
        .add_out::<ctt_sim::SimEnterprise>()
        .add_out::<ctt_sim::ConsentRecord>()
        .add_out::<ctt_sim::ApprovedCallback>()
        .add_out::<ctt_sim::SimCall>();
    let schemas = roots.generator.take_definitions(true);
    let defs = ir::defs(&schemas, &roots.orders, &roots.out_only);
    let calls_of = |name: &str| schemas.get(name).map(ir::calls).unwrap_or_default();
    let calls = ir::Calls {
        client: calls_of("ClientCall"),
        simulator: calls_of("SimCall"),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vec![
        (
            root.join("bindings-python/python/ctt_onboard/_generated.py"),
            python::write(&defs, PYTHON_MODELS, &calls),
        ),
        (
            root.join("bindings-node/lib/generated.d.ts"),
            ts::write(&defs, &calls),
        ),
        (
            root.join("bindings-node/lib/generated.cjs"),
            ts::write_js(&defs, &calls),
        ),
    ]
}

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let files = generate();
    match mode.as_str() {
        "--write" => {
            for (path, text) in &files {
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("ctt-codegen: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        "--check" => {
            let mut stale = false;
            for (path, text) in &files {
                if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                    eprintln!(
                        "ctt-codegen: {} is stale: run `cargo run -p ctt-codegen -- --write` and commit it",
                        path.display()
                    );
                    stale = true;
                }
            }
            if stale {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            eprintln!("usage: ctt-codegen --write | --check");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calls as the emitters see them, read from core's real schema.
    fn calls() -> Vec<ir::Call> {
        let mut roots = Roots::new();
        roots.add_out::<ctt_onboard::client::ClientCall>();
        let schemas = roots.generator.take_definitions(true);
        ir::calls(&schemas["ClientCall"])
    }

    #[test]
    fn every_simulator_call_is_read_with_its_result() {
        let mut roots = Roots::new();
        roots.add_out::<ctt_sim::SimCall>();
        let schemas = roots.generator.take_definitions(true);
        let calls = ir::calls(&schemas["SimCall"]);
        let approve = calls.iter().find(|c| c.wire == "approve").expect("approve");
        let args: Vec<(&str, bool)> = approve
            .args
            .iter()
            .map(|a| (a.name.as_str(), a.required))
            .collect();
        assert_eq!(args, [("url", true), ("tenant", true), ("post", false)]);
        let approved = ir::Ty::Ref("ApprovedCallback".into());
        assert_eq!(approve.returns, Some(approved));
        let snapshot = calls
            .iter()
            .find(|c| c.wire == "snapshot")
            .expect("snapshot");
        assert_eq!(snapshot.returns, Some(ir::Ty::Any));
    }

    #[test]
    fn every_client_call_has_its_arguments_in_order_and_its_result() {
        let calls = calls();
        assert_eq!(calls.len(), 11);
        let url = calls
            .iter()
            .find(|c| c.wire == "actionItemUrl")
            .expect("actionItemUrl");
        let args: Vec<&str> = url.args.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(args, ["action", "enterprise_name", "redirect_url"]);
        assert_eq!(url.returns, Some(ir::Ty::Str));
        let find = calls
            .iter()
            .find(|c| c.name == "find_enterprise")
            .expect("find");
        let summary = ir::Ty::Ref("EnterpriseSummary".into());
        assert_eq!(find.returns, Some(ir::Ty::Nullable(Box::new(summary))));
        let gateways = calls
            .iter()
            .find(|c| c.wire == "sbcGateways")
            .expect("gateways");
        let gateway = ir::Ty::Ref("SbcGateway".into());
        assert_eq!(gateways.returns, Some(ir::Ty::List(Box::new(gateway))));
        let consent = calls.iter().find(|c| c.wire == "updateManagementConsent");
        assert_eq!(consent.map(|c| &c.returns), Some(&None));
        assert!(
            calls.iter().all(|c| !c.doc.is_empty()),
            "every call documented"
        );
    }
}
