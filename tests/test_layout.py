"""The tests mirror the package: tests/<pkg>/ holds the tests of robot_twitch/<pkg>/, and a test
file directly in tests/ is named for a top-level module (test_<module>.py), never for a module that
lives in a subpackage.

Test files in a subpackage's folder are named test_<pkg>_<topic>.py (tests/motor/test_motor_twitch.py):
folders without an __init__.py share one module namespace under pytest, so the prefix keeps the
names unique.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _packages(package_dir: Path) -> set[tuple[str, ...]]:
    """Every subpackage of `package_dir`, as its path parts relative to it (("body",), ...)."""
    return {
        init.parent.relative_to(package_dir).parts
        for init in package_dir.rglob("__init__.py")
        if init.parent != package_dir and "__pycache__" not in init.parts
    }


def _modules(folder: Path) -> set[str]:
    """The module names of the .py files directly in `folder` (no __init__)."""
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}


def layout_problems(package_dir: Path, tests_dir: Path) -> list[str]:
    """One line per test file that breaks the mirrored layout, naming the file and where it belongs.

    A test file under tests/<a>/<b>/ needs a package robot_twitch/<a>/<b>/. A test file directly in
    tests/ named test_<name>.py must not be named for a subpackage, for a module in one, or for
    <pkg>_<module>, unless <name> is also a top-level module (robot_twitch/<name>.py).
    """
    packages = _packages(package_dir)
    top_level = _modules(package_dir)
    home: dict[str, tuple[str, str]] = {}  # a subpackage's name -> (what it names, its test folder)
    for parts in sorted(packages):
        pkg = "/".join(parts)
        folder = f"tests/{pkg}/"
        home.setdefault(parts[-1], (f"{package_dir.name}/{pkg}/", folder))
        for module in sorted(_modules(package_dir.joinpath(*parts))):
            home.setdefault(module, (f"{package_dir.name}/{pkg}/{module}.py", folder))
            home.setdefault(f"{parts[-1]}_{module}", (f"{package_dir.name}/{pkg}/{module}.py", folder))
    problems = []
    for path in sorted(tests_dir.rglob("test_*.py")):
        rel = path.relative_to(tests_dir)
        if "__pycache__" in rel.parts:
            continue
        dirs = rel.parts[:-1]
        if dirs:
            if dirs not in packages:
                problems.append(
                    f"tests/{rel.as_posix()}: there is no package {package_dir.name}/{'/'.join(dirs)}/ "
                    f"for its folder to mirror (existing: {sorted('/'.join(p) for p in packages)})"
                )
            continue
        name = path.stem.removeprefix("test_")
        if name in home and name not in top_level:
            what, folder = home[name]
            problems.append(f"tests/{rel.as_posix()}: named for {what}; move it to {folder}")
    return problems


def test_the_tests_mirror_the_package_layout() -> None:
    assert layout_problems(ROOT / "robot_twitch", ROOT / "tests") == []


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_a_misplaced_test_file_is_named_with_where_it_belongs(tmp_path: Path) -> None:
    pkg, tests = tmp_path / "robot_twitch", tmp_path / "tests"
    _tree(pkg, ["__init__.py", "sim.py", "registry.py", "body/__init__.py", "body/skin.py",
                "learn/__init__.py", "learn/registry.py", "learn/nets/__init__.py", "learn/nets/mlp.py"])
    fine = ["test_sim.py", "test_registry.py", "test_passive_control.py", "conftest.py",
            "body/test_body_skin.py", "body/conftest.py", "body/fakes.py", "learn/nets/test_mlp.py"]
    _tree(tests, fine)
    assert layout_problems(pkg, tests) == []

    _tree(tests, ["test_skin.py", "test_body.py", "test_body_skin.py", "test_mlp.py",
                  "envs/test_envs_limb.py", "learn/gone/test_x.py"])
    problems = layout_problems(pkg, tests)
    assert len(problems) == 6, problems
    expected = {
        "tests/test_skin.py": "move it to tests/body/",
        "tests/test_body.py": "move it to tests/body/",
        "tests/test_body_skin.py": "move it to tests/body/",
        "tests/test_mlp.py": "move it to tests/learn/nets/",
        "tests/envs/test_envs_limb.py": "no package robot_twitch/envs/",
        "tests/learn/gone/test_x.py": "no package robot_twitch/learn/gone/",
    }
    for line in problems:
        file = line.split(":")[0]
        assert expected.pop(file) in line, line
    assert not expected
