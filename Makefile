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
test: lint test-rust test-node test-reliability

rust-setup:
	@bash scripts/ensure-rust.sh

lint: rust-setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust: rust-setup
	cargo test --workspace

## test-reliability: a short fault soak (100 flows, 20% of requests faulted); `make soak` is the full one.
test-reliability: rust-setup
	cargo run --quiet -p ctt-reliability --bin fault-soak -- --flows 100 --concurrency 16 --rate 0.2 --seed 11 --retry-after 0

## soak: the full reliability figures (see RELIABILITY.md).
soak: rust-setup
	cargo run --quiet --release -p ctt-reliability --bin fault-soak -- --flows 1000 --concurrency 32 --rate 0.2 --seed 7 --retry-after 1

## node-setup: Node.js 20+ and the Node package's pinned dev dependencies (npm ci).
node-setup:
	@bash bindings-node/scripts/setup.sh

## test-node: the Node binding (debug build), its TypeScript check and its node --test suite.
test-node: rust-setup node-setup
	cd bindings-node && npm run --silent build:debug
	cd bindings-node && npm run --silent typecheck
	cd bindings-node && npm test
