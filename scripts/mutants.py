#!/usr/bin/env python3
"""Shows that the flow-integrity tests can fail: each protection is removed in turn, and the tests
that guard it must then fail.

Every row is one mutation of core's source (a protection undone, as the landed flow of before
lacked it) and the tests that must catch it. The script works on a git worktree of HEAD in a
temporary folder with its own target directory, so it never changes the checkout or races other
builds; it prints one line per mutation and exits 1 when a mutation survives (its tests still
pass), which would mean a test that cannot fail.

    python3 scripts/mutants.py [--keep] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    # (cargo test target, name filter); "lib" is the crate's unit tests.
    tests: tuple[tuple[str, str], ...]


MUTANTS = [
    Mutant(
        "callbacks trusted without the vendor's word",
        "core/src/onboarding/accept.rs",
        "let info = match client.o365_user_info(&u.auth).await {",
        "let info = match Ok::<crate::models::O365UserInfo, Error>(crate::models::O365UserInfo {"
        " contains_teams_tenant_admin_api: true, extra: Default::default() }) {",
        (("integrity", "forged"), ("integrity", "flag_comes_from_the_vendor")),
    ),
    Mutant(
        "any nonce answers the ask",
        "core/src/onboarding/accept.rs",
        "if awaiting.nonce.as_deref() != Some(verified.nonce.as_str())\n            ||",
        "if",
        (("integrity", "earlier_or_superseded"), ("onboarding", "forged_and_wrong")),
    ),
    Mutant(
        "replays judged by their bytes",
        "core/src/callback/verify.rs",
        "let payload_digest = json_digest(&value);",
        "let payload_digest = hex(&Sha256::digest(body.as_bytes()));",
        (("integrity", "whitespace"),),
    ),
    Mutant(
        "an old access token answers a new ask",
        "core/src/onboarding/accept.rs",
        "if self.state.seen_tokens.contains(&token) {",
        "if false && self.state.seen_tokens.contains(&token) {",
        (("integrity", "earlier_or_superseded"),),
    ),
    Mutant(
        "the token's tid is not compared",
        "core/src/onboarding/accept.rs",
        "&& tid != tenant",
        "&& tid != tid",
        (("integrity", "disagrees_with_its_token"),),
    ),
    Mutant(
        "a 409 adopts whatever has the name",
        "core/src/onboarding/create.rs",
        "Some(refs) => refs.iter().any(|r| r == reference),",
        "Some(_) => true,",
        (("integrity", "one_name"), ("integrity", "lost_create_answer")),
    ),
    Mutant(
        "the create is sent without a checkpoint",
        "core/src/onboarding/create.rs",
        "if let Err(e) = checkpoint.save(self, *saved).await {",
        "if let Err(e) = Ok::<(), Error>(()) {",
        (("integrity", "failed_checkpoint"), ("integrity", "racing_on_one_stored_flow")),
    ),
    Mutant(
        "retired keys are not named",
        "core/src/callback/verify.rs",
        "None if keys.retired.contains(&key_id) => {",
        "None if keys.retired.is_empty() && keys.retired.contains(&key_id) => {",
        (("integrity", "retired"), ("lib", "keys_rotate_retire_and_expire")),
    ),
    Mutant(
        "URLs never expire",
        "core/src/callback/verify.rs",
        ".is_ok_and(|age| age > keys.max_age)",
        ".is_ok_and(|age| age > keys.max_age * 1000)",
        (("integrity", "earlier_or_superseded"), ("lib", "keys_rotate_retire_and_expire")),
    ),
    Mutant(
        "the portal's URL is not under the tag",
        "core/src/callback/verify.rs",
        "field(&mut mac, base.as_bytes());",
        "field(&mut mac, base.len().min(0).to_string().as_bytes());",
        (("lib", "forgeries_are_refused"),),
    ),
    Mutant(
        "a result without expiresOn is trusted until the API refuses it",
        "core/src/onboarding/advance.rs",
        "a.is_expired(now, MSAL_EXPIRY_MARGIN) || a.expires_on.is_none()",
        "a.is_expired(now, MSAL_EXPIRY_MARGIN)",
        (("integrity", "without_expires_on"),),
    ),
    Mutant(
        "an API's word that the sign-in expired is not heeded",
        "core/src/onboarding/advance.rs",
        '|| error.message().to_ascii_lowercase().contains("expired");',
        ";",
        (("integrity", "the_api_sees_expired"),),
    ),
    Mutant(
        "answered asks remembered without end",
        "core/src/onboarding/accept.rs",
        "if self.state.answered.len() > REMEMBERED {",
        "if self.state.answered.len() > REMEMBERED * 1000 {",
        (("integrity", "forgeries_over_and_over"),),
    ),
    Mutant(
        "flow JSON ranges not checked",
        "core/src/onboarding/mod.rs",
        "state.check_ranges()?;",
        "",
        (("integrity", "out_of_range"),),
    ),
    Mutant(
        "the revision never rises",
        "core/src/onboarding/status.rs",
        "self.state.revision = (self.state.revision + 1).min(MAX_REVISION);",
        "self.state.revision = self.state.revision.min(MAX_REVISION);",
        (("integrity", "racing_on_one_stored_flow"), ("integrity", "failed_checkpoint")),
    ),
    Mutant(
        "a callback during an advance is applied and then lost",
        "core/src/onboarding/handle.rs",
        "if state.advancing {\n            return Err(busy(\"handle the callback\"));\n        }",
        "",
        (("flow_handle", "a_callback_or_a_second_advance"),),
    ),
    Mutant(
        "readers never see a finished step until the advance returns",
        "core/src/onboarding/handle.rs",
        "handle.lock().flow = finished;",
        "let _ = (&handle, finished);",
        (("flow_handle", "reads_during_an_advance"), ("flow_handle", "cancel_stops")),
    ),
    Mutant(
        "the superseded MSAL result is kept beside the unconfirmed one",
        "core/src/onboarding/accept.rs",
        "        self.state.auth = None;\n        self.state.awaiting = None;",
        "        self.state.awaiting = None;",
        (("flow_size", "the_longest_flow"),),
    ),
]


def run_tests(tree: str, target: str, tests: tuple[tuple[str, str], ...]) -> list[str]:
    """The tests that passed (a mutant survives when every test that guards it passes)."""
    survived = []
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    for binary, pattern in tests:
        which = ["--lib"] if binary == "lib" else ["--test", binary]
        proc = subprocess.run(
            ["cargo", "test", "-q", "-p", "ctt-onboard", *which, pattern],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
        )
        ran = "running 0 tests" not in proc.stdout
        if proc.returncode == 0 and ran:
            survived.append(f"{binary}::{pattern}")
        elif not ran:
            survived.append(f"{binary}::{pattern} (matched no test)")
    return survived


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the worktree")
    parser.add_argument("--only", help="run the mutants whose name contains this")
    args = parser.parse_args()
    repo = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = tempfile.mkdtemp(prefix="ctt-mutants-")
    target = os.path.join(repo, "target", "mutants")
    subprocess.run(["git", "worktree", "add", "--detach", tree, "HEAD"], cwd=repo, check=True,
                   capture_output=True)
    failures = 0
    try:
        # Unmutated, every guarding test passes: otherwise a kill proves nothing.
        base = [t for m in MUTANTS for t in m.tests]
        started = time.monotonic()
        passing = run_tests(tree, target, tuple(dict.fromkeys(base)))
        if len(passing) != len(dict.fromkeys(base)):
            print("mutants: the unmutated tree does not pass every guarding test", file=sys.stderr)
            return 1
        print(f"mutants: unmutated tree passes its {len(passing)} guarding tests "
              f"({time.monotonic() - started:.0f} s)")
        for m in MUTANTS:
            if args.only and args.only not in m.name:
                continue
            path = os.path.join(tree, m.file)
            original = open(path, encoding="utf-8").read()
            if original.count(m.old) != 1:
                print(f"MISSING  {m.name}: the text to mutate is not in {m.file} once")
                failures += 1
                continue
            open(path, "w", encoding="utf-8").write(original.replace(m.old, m.new))
            try:
                started = time.monotonic()
                survived = run_tests(tree, target, m.tests)
            finally:
                open(path, "w", encoding="utf-8").write(original)
            took = time.monotonic() - started
            if len(survived) == len(m.tests):
                failures += 1
                print(f"SURVIVED {m.name} ({took:.0f} s): passed {', '.join(survived)}")
            else:
                names = ", ".join(
                    f"{b}::{p}" for b, p in m.tests if f"{b}::{p}" not in survived
                )
                print(f"killed   {m.name} ({took:.0f} s): failed {names}")
    finally:
        if not args.keep:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=repo,
                           capture_output=True)
            shutil.rmtree(tree, ignore_errors=True)
    total = len([m for m in MUTANTS if not args.only or args.only in m.name])
    print(f"mutants: {total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
