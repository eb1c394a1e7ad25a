//! `uniffi-bindgen`: generates the Kotlin bindings from the built binding library (library mode).
//!
//! It lives in its own crate so that uniffi's `cli` feature (clap, cargo metadata, the
//! generators) never becomes a feature of the binding crate: building `-p ctt-onboard-kotlin`
//! alone keeps the cdylib's features, so the library that is packaged is the one the bindings
//! were generated from.
//!
//! After generating Kotlin it patches one helper of uniffi's plumbing ([`pool_call_statuses`]),
//! so every build of the bindings (the binding's own, the bench's) gets the same code.

use std::path::Path;

fn main() {
    uniffi::uniffi_bindgen_main();
    let args: Vec<String> = std::env::args().collect();
    if let Some(out_dir) = kotlin_out_dir(&args)
        && let Err(e) = patch_dir(Path::new(out_dir))
    {
        eprintln!("uniffi-bindgen: {e}");
        std::process::exit(1);
    }
}

/// The `--out-dir` of a `generate --language kotlin` command line, if that is what ran.
fn kotlin_out_dir(args: &[String]) -> Option<&str> {
    let after = |flags: &[&str]| {
        let i = args.iter().position(|a| flags.contains(&a.as_str()))?;
        args.get(i + 1).map(String::as_str)
    };
    let generate = args.iter().any(|a| a == "generate");
    (generate && after(&["--language", "-l"]) == Some("kotlin"))
        .then(|| after(&["--out-dir", "-o"]))?
}

fn patch_dir(dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            patch_dir(&path)?;
        } else if path.extension().is_some_and(|x| x == "kt") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(patched) =
                pool_call_statuses(&text).map_err(|e| format!("{}: {e}", path.display()))?
            {
                std::fs::write(&path, patched).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// uniffi's helper that every synchronous FFI call goes through (cloning an object's handle,
/// allocating and freeing a `RustBuffer`, completing a future), as uniffi 0.32 writes it.
const CALL_WITH_ERROR: &str = "\
private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    var status = UniffiRustCallStatus()
    val return_value = callback(status)
    uniffiCheckCallStatus(errorHandler, status)
    return return_value
}
";

/// The same helper, taking its status from a per-thread pool instead of allocating one.
const POOLED_CALL_WITH_ERROR: &str = "\
private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    val status = uniffiTakeCallStatus()
    try {
        val return_value = callback(status)
        uniffiCheckCallStatus(errorHandler, status)
        return return_value
    } finally {
        uniffiCallStatuses.get().addLast(status)
    }
}

// Patched in by ctt-onboard's uniffi-bindgen (uniffi-bindgen/src/main.rs says why): call statuses
// are reused per thread. A status is taken for one call and given back after it, so a call made
// while another is in progress on the same thread (an error being lifted, a callback) gets its own.
private val uniffiCallStatuses = ThreadLocal.withInitial { java.util.ArrayDeque<UniffiRustCallStatus>() }

private fun uniffiTakeCallStatus(): UniffiRustCallStatus {
    val status = uniffiCallStatuses.get().pollLast() ?: return UniffiRustCallStatus()
    status.code = UNIFFI_CALL_SUCCESS
    status.error_buf.capacity = 0
    status.error_buf.len = 0
    status.error_buf.data = null
    return status
}
";

/// Makes [`CALL_WITH_ERROR`] reuse its `UniffiRustCallStatus`. uniffi allocates a new one, a JNA
/// `Structure`, for every synchronous call, and 2-4 of them per `suspend` call. Each `Structure`
/// allocates native memory that JNA tracks in a global map until the garbage collector has found
/// the `Structure` unreachable and JNA's cleaner has freed it: in the bulk benchmark (JFR, the JVM
/// pinned to one CPU) half of the calling thread's time went to that map, and the map's entries
/// made every young collection copy them. `None` when `text` has no such helper (Kotlin files of
/// this build that are not uniffi's); an error when it has one this patch does not know, so a
/// uniffi upgrade cannot skip it silently.
fn pool_call_statuses(text: &str) -> Result<Option<String>, String> {
    if text.contains(CALL_WITH_ERROR) {
        return Ok(Some(text.replacen(
            CALL_WITH_ERROR,
            POOLED_CALL_WITH_ERROR,
            1,
        )));
    }
    if text.contains("fun <U, E: kotlin.Exception> uniffiRustCallWithError(") {
        return Err(
            "uniffi's uniffiRustCallWithError is not the one this patch knows (a uniffi \
                    upgrade?): update CALL_WITH_ERROR and check the patch still holds"
                .to_owned(),
        );
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_is_replaced_once_and_other_files_are_left_alone() {
        let generated = format!("package a\n\n{CALL_WITH_ERROR}\nfun b() = 1\n");
        let patched = pool_call_statuses(&generated)
            .expect("known")
            .expect("patched");
        assert!(!patched.contains("var status = UniffiRustCallStatus()"));
        assert_eq!(patched.matches("uniffiTakeCallStatus()").count(), 2);
        assert!(patched.ends_with("fun b() = 1\n"));
        assert_eq!(pool_call_statuses("package a\nfun b() = 1\n"), Ok(None));
    }

    #[test]
    fn an_unknown_version_of_the_helper_is_an_error() {
        let changed = CALL_WITH_ERROR.replace("var status", "val status");
        assert!(pool_call_statuses(&changed).is_err());
    }

    #[test]
    fn only_kotlin_generation_is_patched() {
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let kotlin =
            args("uniffi-bindgen generate --language kotlin --no-format --out-dir out lib.so");
        assert_eq!(kotlin_out_dir(&kotlin), Some("out"));
        let python = args("uniffi-bindgen generate --language python --out-dir out lib.so");
        assert_eq!(kotlin_out_dir(&python), None);
    }
}
