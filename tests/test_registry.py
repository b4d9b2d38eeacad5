"""Registries: one per family; the config's names, docs/config.md and the CLI help come from them."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

from robot_twitch.cli import main
from robot_twitch.config import DriveSection, ExperimentConfig, LearnerSection
from robot_twitch.config_doc import config_reference_markdown
from robot_twitch.errors import ConfigError
from robot_twitch.learn.registry import LEARNER_REGISTRY, make_learners
from robot_twitch.motor import DRIVE_REGISTRY, make_drive
from robot_twitch.registry import Registry


def test_a_registry_takes_each_name_once_and_names_the_choices():
    reg = Registry("widget")
    reg.add("round", dict, doc="A round one.")
    reg.add("square", list)
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("round", set)
    with pytest.raises(ValueError, match="identifier"):
        reg.add("two words", set)
    with pytest.raises(KeyError, match=r"widget 'rund' is not registered.*did you mean 'round'"):
        reg["rund"]
    assert reg.names() == ("round", "square") and "round" in reg and "oval" not in reg
    assert get_args(reg.literal()) == ("round", "square")
    assert reg["square"].doc.startswith("Built-in mutable sequence")  # the factory's docstring
    assert reg.describe().startswith("round: A round one.")


def test_every_registered_drive_has_its_config_section_and_builds():
    fields = {f.name: f for f in dataclasses.fields(DriveSection)}
    from typing import get_type_hints

    assert get_args(get_type_hints(DriveSection)["kind"]) == DRIVE_REGISTRY.names()
    for name, entry in DRIVE_REGISTRY.items():
        assert name in fields, f"DriveSection has no `{name}` section for the registered drive"
        assert isinstance(getattr(DriveSection(), name), entry.config)
        section = DriveSection(kind=name)
        drive = make_drive(name, _muscles(), 0.01, section.selected())
        assert drive.step().shape == (len(_muscles()),)
    with pytest.raises(ConfigError, match="kind"):
        from robot_twitch.typed import build

        build(DriveSection, {"kind": "babble"})


def test_learner_names_are_the_registry_and_every_learner_builds():
    assert LearnerSection(names=LEARNER_REGISTRY.names()).names == LEARNER_REGISTRY.names()
    with pytest.raises(ConfigError, match="not a learner"):
        LearnerSection(names=("telepathy",))
    config = ExperimentConfig(learners=LearnerSection(names=LEARNER_REGISTRY.names()))
    group = make_learners(config, config.sim.control_dt_s)
    assert [learner.name for learner in group] == list(LEARNER_REGISTRY.names())
    with pytest.raises(ConfigError, match=r"learners.params.hebbian"):
        make_learners(ExperimentConfig(learners=LearnerSection(names=("hebbian",),
                                                               params={"hebbian": {"no_such": 1}})), 0.01)


def test_docs_and_cli_help_list_every_registered_part(capsys):
    doc = config_reference_markdown()
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = capsys.readouterr().out
    for name in (*DRIVE_REGISTRY, *LEARNER_REGISTRY):
        assert f"{name}: " in doc and f"  {name}: " in help_text, name


def _muscles():
    from robot_twitch.body.spec import load_body

    return load_body("planar_arm").muscles
