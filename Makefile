# The project's two commands are `make demo` and `make test` (see README.md). Every target
# installs what it needs first, so both work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := test
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: demo test lint test-rust test-reliability soak rust-setup node-setup test-node

## demo: the onboarding against the embedded simulator, printing each step.
demo: rust-setup
	cargo run --quiet -p ctt-onboard-example

## test: every test of every language, lints included.
test: lint check-generated test-rust test-python test-node test-reliability test-examples test-kotlin test-cross test-scenarios test-mutants test-bench lint-workflows dist-check binding-size

rust-setup:
	@bash scripts/ensure-rust.sh

lint: rust-setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust: rust-setup
	cargo test --workspace

.PHONY: python-setup test-python

## python-setup: .venv with the Python build and test tools (pip), and the binding built into it
## (maturin develop, debug), so `import ctt_onboard` works in .venv/bin/python.
python-setup: rust-setup
	@bash bindings-python/scripts/setup.sh

## test-python: the Python binding: ruff, mypy --strict, stubtest, and pytest (which also builds
## the release wheel and installs it into a clean venv).
test-python: python-setup
	@bash bindings-python/scripts/test.sh

## test-reliability: short versions of the soaks and the fuzzers; `make soak` runs the full ones.
test-reliability: rust-setup python-setup
	cargo run --quiet -p ctt-reliability --bin fault-soak -- --flows 100 --concurrency 16 --rate 0.2 --seed 11 --retry-after 0
	cargo build --quiet -p ctt-sim --bin ctt-sim
	.venv/bin/ruff check reliability/python && .venv/bin/mypy --strict reliability/python
	.venv/bin/python reliability/python/crash_soak.py --sim-bin target/x86_64-unknown-linux-gnu/debug/ctt-sim --kills 15 --flows 10 --seed 3
	bash scripts/fuzz.sh 10

## soak: the full reliability figures (see RELIABILITY.md): 1,000 faulted flows, 200 SIGKILLs, 60 s per fuzz target.
soak: rust-setup python-setup
	cargo run --quiet --release -p ctt-reliability --bin fault-soak -- --flows 1000 --concurrency 32 --rate 0.2 --seed 7 --retry-after 1
	cargo build --quiet --release -p ctt-sim --bin ctt-sim
	.venv/bin/python reliability/python/crash_soak.py --sim-bin target/x86_64-unknown-linux-gnu/release/ctt-sim --kills 200 --flows 40 --seed 1
	bash scripts/fuzz.sh 60 --release

## node-setup: Node.js 20+ and the Node package's pinned dev dependencies (npm ci).
node-setup:
	@bash bindings-node/scripts/setup.sh

## test-node: the Node binding (debug build), its TypeScript check and its node --test suite.
test-node: rust-setup node-setup
	cd bindings-node && npm run --silent build:debug
	cd bindings-node && npm run --silent typecheck
	cd bindings-node && npm test

# ---- examples (examples/python, examples/node, examples/portal) ----
# The Node examples depend on the binding as `"ctt-onboard": "file:../../bindings-node"` (npm links
# it), so the binding's native build must exist before they run.
.PHONY: portal test-examples examples-node-setup chromium-setup

## portal: the example provider portal against the embedded simulator; prints its URL (PORT=8088).
portal: examples-node-setup
	cd examples/portal && node start.mjs

## test-examples: the Python and Node examples' tests, and the portal clicked through in headless Chromium.
test-examples: python-setup examples-node-setup chromium-setup
	cd examples/python && ../../.venv/bin/ruff check . && ../../.venv/bin/ruff format --check . && ../../.venv/bin/mypy --strict .
	cd examples/python && ../../.venv/bin/python -m pytest -q -p no:cacheprovider
	cd examples/node && npm test
	cd examples/portal && npm test

# The Node binding built (debug, as test-node builds it) and the examples' pinned packages (npm ci).
examples-node-setup: rust-setup node-setup
	cd bindings-node && npm run --silent build:debug
	@for d in examples/node examples/portal; do \
	  if [ ! -d $$d/node_modules ] || [ $$d/package-lock.json -nt $$d/node_modules/.package-lock.json ]; then \
	    (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	  fi; \
	done

# Debian's chromium for the portal's browser test (playwright-core drives it; no browser download).
chromium-setup:
	@if [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

.PHONY: kotlin-setup test-kotlin

## kotlin-setup: JDK 17+ and Maven (Debian's packages when missing); Maven fetches the rest.
kotlin-setup:
	@bash bindings-kotlin/scripts/setup.sh

## test-kotlin: the Kotlin/JVM binding: Maven builds the .so and the generated Kotlin in one step,
## runs the JUnit tests, installs the jar; then the consumer project runs against it by coordinates.
test-kotlin: rust-setup kotlin-setup
	cd bindings-kotlin && mvn -B -ntp install
	cd examples/kotlin && mvn -B -ntp -q compile exec:exec@walkthrough exec:exec@quickstart

# ---- one flow across three languages (tests/cross-language/) ----
.PHONY: test-cross test-mutants

## test-cross: one flow started in Node, its callbacks handled in Python, completed in Kotlin,
## through one SQLite file, one ctt-sim process and one callback key (tests/cross-language/).
test-cross: rust-setup python-setup examples-node-setup kotlin-setup
	cargo build --quiet -p ctt-sim --bin ctt-sim
	cd bindings-kotlin && mvn -B -ntp -q install -DskipTests
	bash tests/cross-language/run.sh

## test-mutants: each flow-integrity protection undone in turn (in a worktree of HEAD, its own
## target dir), and the tests guarding it must fail (scripts/mutants.py; RELIABILITY.md, 7).
test-mutants: rust-setup
	python3 scripts/mutants.py

# ---- the shared scenarios in every language (tests/scenarios/) ----
.PHONY: test-scenarios

## test-scenarios: the cases of tests/scenarios/*.json (flows per tenant and service set, forged
## and replayed callbacks, hostile inputs, secret canaries) run by the Python, Node and Kotlin
## harnesses; prints run/passed/failed/skipped per language (tests/scenarios/run.sh).
test-scenarios: rust-setup python-setup examples-node-setup kotlin-setup
	cd bindings-kotlin && mvn -B -ntp -q install -DskipTests
	bash tests/scenarios/run.sh

# ---- benchmarks (bench/; the figures are in BENCHMARKS.md) ----
.PHONY: bench test-bench

## bench: release builds, every case against its own ctt-sim process (faults off), one table
## printed and written to BENCHMARKS.md. Takes a while; the figures are medians of 3 runs. Waits
## (up to 10 minutes, saying so) for the 1-minute load average to fall under 1.5 before it starts,
## and reports whether it was under 1.5 before and after (issue 16's quiet machine).
bench: rust-setup python-setup node-setup kotlin-setup
	bash bench/setup.sh release
	bench/.venv/bin/python bench/run.py --profile release --runs 3 --httpx-runs 1 --max-wait 600 --json bench/out/results.json --breakdown bench/out/breakdown.md --write BENCHMARKS.md

## test-bench: the same cases with tiny counts on debug builds, to check they still run; prints
## the figures, no timing thresholds.
test-bench: rust-setup python-setup node-setup kotlin-setup
	bash bench/setup.sh debug
	bench/.venv/bin/python bench/run.py --profile debug --quick

# ---- release artifacts for Linux (README.md, "Platforms"; scripts/dist/) ----
.PHONY: dist dist-setup dist-check lint-workflows

## dist-setup: the cross-build tools (Rust targets, .venv-dist with maturin+ziglang, cargo-zigbuild,
## qemu-user-static) and an arm64 sysroot from Debian's packages (python3.11, nodejs, a JDK).
dist-setup: rust-setup node-setup kotlin-setup
	@bash scripts/dist/setup.sh sysroot

## dist: every Linux artifact into dist/ with SHA256SUMS (abi3 wheels manylinux2014/musllinux_1_2
## x86_64+aarch64 and the sdist; npm root + linux-{x64,arm64}-{gnu,musl}; the jar with linux-x86-64
## and linux-aarch64), then runs them: x86_64 on this host, aarch64 under qemu-user (see
## scripts/dist/run-built.sh). DIST_SRC=head builds the last commit instead of the work tree.
dist: dist-setup
	bash scripts/dist/build.sh
	bash scripts/dist/run-built.sh

## dist-check: the part of dist that `make test` runs (about 9 minutes cold, measured): the aarch64
## wheel and the arm64 .node cross-built and run under qemu (the Python and Node walkthroughs in
## arm64 Python and Node), the Node loader's errors, and the sdist's missing-Rust message. Into
## target-dist/check/, not dist/. The musl checks and the jar's arm64 run are in `make dist` only
## (another 7 minutes or so cold, past CI's budget).
dist-check: rust-setup node-setup
	@bash scripts/dist/setup.sh sysroot
	DIST_OUT=target-dist/check bash scripts/dist/build.sh wheel aarch64-unknown-linux-gnu node aarch64-unknown-linux-gnu npm sdist-nocargo
	DIST_OUT=target-dist/check bash scripts/dist/run-built.sh python-arm64 node-arm64 loader

## lint-workflows: actionlint (with shellcheck) over .github/workflows.
lint-workflows:
	@bash scripts/dist/lint-workflows.sh

# ---- generated host types (codegen/) ----
.PHONY: check-generated binding-size

## binding-size: each binding's Rust layer as a share of core's lines (issue 14's target: at most
## 15% each), counted as scripts/binding-size.sh says; it reports and never fails.
binding-size:
	@bash scripts/binding-size.sh

## check-generated: the committed generated files (the Python models in
## bindings-python/python/ctt_onboard/_generated.py, bindings-node/lib/generated.d.ts) match the
## JSON Schema of core and ctt-sim; `cargo run -p ctt-codegen -- --write` rewrites them.
check-generated: rust-setup
	cargo run --quiet -p ctt-codegen -- --check
