"""``maturin build --release`` gives an abi3 wheel that installs into a fresh venv and works."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

SMOKE = """
import ctt_onboard, ctt_onboard._native
from ctt_onboard.testing import Simulator
assert "site-packages" in ctt_onboard.__file__, ctt_onboard.__file__
with Simulator() as sim, sim.client() as client:
    print(ctt_onboard.__version__, client.reseller_id())
"""


def test_release_wheel_installs_into_a_clean_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    maturin = Path(sys.executable).parent / "maturin"
    subprocess.run(
        [str(maturin), "build", "--release", "--quiet", "--out", str(dist)],
        cwd=PROJECT,
        check=True,
    )
    [wheel] = list(dist.glob("*.whl"))
    assert "-abi3-" in wheel.name
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"ctt_onboard/py.typed", "ctt_onboard/_native.pyi", "ctt_onboard/__init__.py"} <= names
    assert any(n.startswith("ctt_onboard/_native") and n.endswith(".so") for n in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", str(wheel)], check=True
    )
    out = subprocess.run(
        [str(python), "-c", SMOKE], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    version, reseller_id = out.stdout.split()
    assert version == "0.1.0"
    assert reseller_id == "54"
