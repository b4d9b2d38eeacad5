"""The wheel ships the built-in bodies and configs: a non-editable install finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_assets_and_configs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the wheel does not build: {result.stderr.strip()[-500:]}"
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for body in ("planar_arm", "leg", "infant"):
        assert f"robot_twitch/assets/{body}/body.yaml" in names
    assert "robot_twitch/configs/quickstart.yaml" in names
    # The README's commands work from any folder after a non-editable install.
    site, cwd = tmp_path / "site", tmp_path / "elsewhere"
    cwd.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, timeout=300)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    commands = [
        ["run", "configs/quickstart.yaml", "--set", "duration_s=1", "--set", "evaluation.reach_trials=0",
         "--set", "outputs.plots=false", "--quiet"],
        ["run", "quickstart", "--set", "body=leg", "--set", "duration_s=1", "--set", "evaluation.reach_trials=0",
         "--set", "outputs.plots=false", "--quiet"],
        ["video", "configs/quickstart.yaml", "-o", "demo.gif", "--seconds", "0.2", "--size", "64x48", "--fps", "10"],
    ]
    for argv in commands:
        done = subprocess.run([sys.executable, "-m", "robot_twitch.cli", *argv], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (argv, done.stderr[-500:])
    assert (cwd / "demo.gif").is_file() and len(list((cwd / "runs").iterdir())) == 2
