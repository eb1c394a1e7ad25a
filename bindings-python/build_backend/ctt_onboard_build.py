"""The PEP 517 build backend of ctt-onboard's sdist: maturin, after a check that Rust is there.

A source build compiles the Rust core, so it needs cargo (Rust 1.88 or newer). Without it maturin
would fetch a Rust toolchain from the internet (puccinialin), which fails behind a registry-only
network with a download error that names neither Rust nor this package. This backend says instead
what is missing and what to do. MATURIN_NO_INSTALL_RUST is set so maturin never tries the download;
set CTT_ONBOARD_ALLOW_RUST_DOWNLOAD=1 to let maturin install Rust itself.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any

import maturin  # type: ignore[import-untyped]

_MESSAGE = (
    "ctt-onboard: building from source needs Rust: `cargo` (Rust 1.88 or newer) was not found on "
    "PATH. Install Rust (https://rustup.rs, or your distribution's cargo/rustc packages) and run "
    "the install again, or install a prebuilt wheel: ctt-onboard publishes abi3 wheels for Linux "
    "x86_64 and aarch64 (manylinux2014 and musllinux_1_2), macOS x86_64 and arm64, and Windows x64 "
    "(pip install --only-binary ctt-onboard ctt-onboard)."
)


def _check_rust() -> None:
    if os.environ.get("CTT_ONBOARD_ALLOW_RUST_DOWNLOAD") == "1":
        return
    os.environ.setdefault("MATURIN_NO_INSTALL_RUST", "1")
    cargo = os.environ.get("CARGO")
    if (cargo and os.path.isfile(cargo)) or shutil.which("cargo"):
        return
    raise SystemExit(_MESSAGE)


def get_requires_for_build_wheel(config_settings: Mapping[str, Any] | None = None) -> list[str]:
    _check_rust()
    return list(maturin.get_requires_for_build_wheel(config_settings))


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Mapping[str, Any] | None = None
) -> str:
    _check_rust()
    return str(maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _check_rust()
    return str(maturin.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _check_rust()
    return str(maturin.build_editable(wheel_directory, config_settings, metadata_directory))


def get_requires_for_build_sdist(config_settings: Mapping[str, Any] | None = None) -> list[str]:
    return list(maturin.get_requires_for_build_sdist(config_settings))


def build_sdist(sdist_directory: str, config_settings: Mapping[str, Any] | None = None) -> str:
    _check_rust()
    return str(maturin.build_sdist(sdist_directory, config_settings))
