"""The body-change registry: every kind a config can name, and one clear error for any other."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import get_args, get_type_hints

import numpy as np
import pytest

from robot_twitch.body.changes import BODY_CHANGE_REGISTRY, ChangeKind, apply_change
from robot_twitch.body.spec import load_body
from robot_twitch.cli import main
from robot_twitch.config import BodyChange
from robot_twitch.config_doc import config_reference_markdown
from robot_twitch.errors import ConfigError
from robot_twitch.typed import build

KINDS = ("lose_muscle", "weaken_muscle", "move_attachment", "scale_segment", "tendon_transfer")


def test_the_registry_lists_every_kind_and_the_config_docs_and_help_follow_it(capsys):
    assert BODY_CHANGE_REGISTRY.names() == KINDS
    assert get_args(get_type_hints(BodyChange)["kind"]) == KINDS
    doc = config_reference_markdown()
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = capsys.readouterr().out
    for name, entry in BODY_CHANGE_REGISTRY.items():
        assert entry.doc and f"{name}: {entry.doc}" in doc and f"  {name}: " in help_text, name


def test_an_unknown_kind_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"kind: 'lose_muscel' is invalid: expected one of .*did you mean 'lose_muscle'"):
        build(BodyChange, {"at_s": 1.0, "kind": "lose_muscel", "muscle": "biceps"})
    with pytest.raises(ConfigError, match=r"body-change kind 'amputate' is not registered: expected one of"):
        BodyChange(at_s=1.0, kind="amputate", muscle="biceps")  # type: ignore[arg-type]
    config = tmp_path / "c.yaml"
    config.write_text("body: planar_arm\nduration_s: 1\nbody_changes: [{at_s: 0.5, kind: shrink, muscle: biceps}]\n")
    assert main(["run", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "c.yaml" in err and "body_changes" in err and "'shrink'" in err and "Traceback" not in err


def test_each_kind_is_applied_by_its_registered_function():
    body = load_body("planar_arm")
    m = body.muscle_names.index("biceps")
    scale = np.ones(len(body.muscle_names))
    assert apply_change(body, BodyChange(at_s=0.0, kind="weaken_muscle", muscle="biceps", factor=0.25),
                        scale, None) is body  # type: ignore[arg-type]
    assert scale[m] == 0.25 and np.count_nonzero(scale == 1.0) == len(scale) - 1
    assert apply_change(body, BodyChange(at_s=0.0, kind="lose_muscle", muscle="biceps"), scale, None) is body  # type: ignore[arg-type]
    assert scale[m] == 0.0
    moved = apply_change(body, BodyChange(at_s=0.0, kind="move_attachment", muscle="biceps",
                                          offset_m=(0.0, 0.0, 0.02)), scale, None)  # type: ignore[arg-type]
    changed = np.flatnonzero(np.any(moved.paths.geometry.point_local_m != body.paths.geometry.point_local_m, axis=1))
    assert len(changed) == 1 and np.allclose(moved.paths.geometry.point_local_m[changed[0]]
                                             - body.paths.geometry.point_local_m[changed[0]], (0.0, 0.0, 0.02))
    with pytest.raises(ConfigError, match="'quadriceps' is not a muscle"):
        apply_change(body, BodyChange(at_s=0.0, kind="lose_muscle", muscle="quadriceps"), scale, None)  # type: ignore[arg-type]


def test_the_keys_a_kind_needs_come_from_its_registry_entry(tmp_path, capsys):
    fields = {f.name for f in dataclasses.fields(BodyChange)}
    for name, entry in BODY_CHANGE_REGISTRY.items():
        assert isinstance(entry.factory, ChangeKind) and set(entry.factory.keys()) <= fields, name
    cases = [({"kind": "scale_segment"}, r"body_changes\[0\]\.link: '' is invalid: scale_segment needs `link`"),
             ({"kind": "lose_muscle"}, r"body_changes\[0\]\.muscle: '' is invalid: lose_muscle needs `muscle`"),
             ({"kind": "weaken_muscle", "muscle": "biceps", "factor": 0},
              r"body_changes\[0\]\.factor: 0\.0 is invalid: expected > 0 for weaken_muscle"),
             ({"kind": "tendon_transfer", "muscle": "biceps", "joint": "elbow"},
              r"body_changes\[0\]\.insertion_m: None is invalid: tendon_transfer needs `insertion_m`")]
    for change, message in cases:
        with pytest.raises(ConfigError, match=r"c\.yaml: " + message):
            build(BodyChange, {"at_s": 1.0, **change}, tmp_path / "c.yaml", "body_changes[0]")
    # Against the body, before the run: one line from the CLI naming the file, key and value.
    config = tmp_path / "c.yaml"
    config.write_text("body: planar_arm\nduration_s: 1\nbody_changes: [{at_s: 0.5, kind: scale_segment, link: tail}]\n")
    assert main(["run", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "c.yaml: body_changes[0].link: 'tail' is not a link of planar_arm" in err
    # The checks are the entry's: a kind that needed `joint` would reject a change without one.
    needs_joint = ChangeKind(lambda body, change, scale, workdir: body, needs={"joint": "the joint"})
    change = BodyChange(at_s=0.0, kind="lose_muscle", muscle="biceps")
    with pytest.raises(ConfigError, match=r"'' is invalid: lose_muscle needs `joint` \(the joint\)"):
        needs_joint.check(change)
    with pytest.raises(ConfigError, match="'quadriceps' is not a muscle of planar_arm"):
        BODY_CHANGE_REGISTRY["lose_muscle"].factory.check(replace(change, muscle="quadriceps"), load_body("planar_arm"))
