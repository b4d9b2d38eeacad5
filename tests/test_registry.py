"""Registries: one per family; the config's names, docs/config.md and the CLI help come from them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from robot_twitch.cli import main
from robot_twitch.config import DriveSection, ExperimentConfig, LearnerSection, drive_section
from robot_twitch.config_doc import config_reference_markdown
from robot_twitch.errors import ConfigError
from robot_twitch.learn.registry import LEARNER_REGISTRY, make_learners
from robot_twitch.motor import DRIVE_REGISTRY, PassiveConfig, TwitchConfig, make_drive
from robot_twitch.registry import Registry
from robot_twitch.typed import build


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
    assert get_args(get_type_hints(DriveSection)["kind"]) == DRIVE_REGISTRY.names()
    for name, entry in DRIVE_REGISTRY.items():
        assert name in fields, f"DriveSection has no `{name}` section for the registered drive"
        assert isinstance(getattr(DriveSection(), name), entry.config)
        section = DriveSection(kind=name)
        drive = make_drive(name, _muscles(), 0.01, section.selected())
        assert drive.step().shape == (len(_muscles()),)
    with pytest.raises(ConfigError, match="kind"):
        build(DriveSection, {"kind": "babble"})
    # The passive drive borrows the twitch section's schedule unless it has its own.
    twitch = TwitchConfig(age_weeks=3.0)
    assert DriveSection(kind="passive", twitch=twitch).selected().pattern is twitch
    own = TwitchConfig(age_weeks=9.0)
    assert DriveSection(kind="passive", twitch=twitch, passive=PassiveConfig(pattern=own)).selected().pattern is own


@dataclasses.dataclass(frozen=True)
class HumConfig:
    """Humming: a constant excitation."""

    level: float = 0.2
    """Excitation of every muscle."""


def test_a_newly_registered_drive_gets_its_section_kind_and_errors_with_no_other_edit():
    registry = Registry("drive")
    for name, entry in DRIVE_REGISTRY.items():
        registry.add(name, entry.factory, entry.config, entry.doc)
    registry.add("hum", object, HumConfig)
    section_cls = drive_section(registry)
    assert [f.name for f in dataclasses.fields(section_cls)][-1] == "hum"
    assert get_args(get_type_hints(section_cls)["kind"])[-1] == "hum"
    section = build(section_cls, {"kind": "hum", "hum": {"level": 0.5}, "match_energy": True}, None, "drive")
    assert section.selected() == HumConfig(level=0.5) and section.match_energy and section.twitch == TwitchConfig()
    with pytest.raises(ConfigError, match=r"x.yaml: drive.hum.level: 'loud' is invalid: expected a number"):
        build(section_cls, {"kind": "hum", "hum": {"level": "loud"}}, Path("x.yaml"), "drive")
    with pytest.raises(ConfigError, match=r"drive.hum.pitch: unknown key"):
        build(section_cls, {"hum": {"pitch": 3}}, None, "drive")
    assert build(DriveSection, {}, None, "drive") == DriveSection()  # the shipped section lacks it
    with pytest.raises(ConfigError, match=r"drive.hum: unknown key"):
        build(DriveSection, {"hum": {}}, None, "drive")
    registry.add("quiet", object)  # a drive without settings has no section and selects None
    assert build(drive_section(registry), {"kind": "quiet"}).selected() is None
    clash = Registry("drive")
    clash.add("match_energy", object, HumConfig)
    with pytest.raises(ValueError, match="'match_energy' is invalid: it is a key of the drive section"):
        drive_section(clash)


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
    for name, entry in DRIVE_REGISTRY.items():  # each drive's settings, field by field
        table = doc.split(f"### `drive.{name}`", 1)[1].split("\n### ", 1)[0]
        for f in dataclasses.fields(entry.config):
            assert f"| `{f.name}` |" in table, (name, f.name)


def _muscles():
    from robot_twitch.body.spec import load_body

    return load_body("planar_arm").muscles
