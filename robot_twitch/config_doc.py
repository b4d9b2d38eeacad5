"""docs/config.md, generated from the config dataclasses and their field docstrings.

`python -m robot_twitch.config_doc > docs/config.md` rewrites it; a test keeps it in sync.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect

from robot_twitch import config as C
from robot_twitch import sensors, sim
from robot_twitch.sensors import SensorConfig
from robot_twitch.sim import SimConfig

SECTIONS = [("(top level)", C.ExperimentConfig), ("sim", SimConfig), ("sensors", SensorConfig),
            ("drive", C.DriveSection), ("learners", C.LearnerSection), ("evaluation", C.EvaluationSection),
            ("body_changes[]", C.BodyChange), ("outputs", C.OutputSection), ("outputs.video", C.VideoSection),
            ("sweep", C.SweepSection)]

HEADER = """# Config reference

An experiment config is one YAML file (configs/*.yaml). Every key below can be changed on the command line
with `--set KEY=VALUE` (dotted keys reach nested sections; values are parsed as YAML, e.g.
`--set learners.names=[hebbian,forward]`). Unknown keys, wrong types and out-of-range values are
rejected with one line naming the file, the key, the value and what was expected (exit status 2).
Every run writes its fully resolved config to `RUN_DIR/config.yaml`.
"""

FOOTER = """## Drive sections

`drive.twitch`, `drive.white_noise`, `drive.ou`, `drive.sine` and `drive.awake` take the fields of
`TwitchConfig` (with nested `sleep:` = `SleepConfig` and `wake_movement:`), `WhiteNoiseConfig`, `OUConfig`,
`SineConfig` and `AwakeConfig`; docs/motor.md lists every field with its default and the reason for it.

## Learner parameters

`learners.params.NAME` holds keyword arguments of the learner's constructor (docs/learners.md), e.g.
`{forward: {hidden: [128, 128], updates_per_batch: 30}}`.
"""


def _field_docs() -> dict[tuple[str, str], str]:
    docs = {}
    for module in (C, sim, sensors):
        docs.update(_module_field_docs(module))
    return docs


def _module_field_docs(module: object) -> dict[tuple[str, str], str]:
    docs = {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.ClassDef):
            for first, second in zip(node.body, node.body[1:], strict=False):
                if (isinstance(first, ast.AnnAssign) and isinstance(first.target, ast.Name)
                        and isinstance(second, ast.Expr) and isinstance(second.value, ast.Constant)):
                    docs[(node.name, first.target.id)] = " ".join(str(second.value.value).split())
    return docs


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return repr(field.default)
    if field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
        return "(section)" if dataclasses.is_dataclass(value) else repr(value)
    return "required"


def _registered() -> dict[tuple[str, str], str]:
    """Fields whose allowed values are a registry's names: their doc ends with the registered parts."""
    from robot_twitch.body.changes import BODY_CHANGE_REGISTRY
    from robot_twitch.learn.registry import LEARNER_REGISTRY
    from robot_twitch.motor import DRIVE_REGISTRY

    return {("DriveSection", "kind"): "Registered drives: " + DRIVE_REGISTRY.describe() + ".",
            ("LearnerSection", "names"): "Registered learners: " + LEARNER_REGISTRY.describe() + ".",
            ("BodyChange", "kind"): "Registered body-change kinds: " + BODY_CHANGE_REGISTRY.describe()}


def config_reference_markdown() -> str:
    docs = _field_docs()
    for key, text in _registered().items():
        docs[key] = f"{docs.get(key, '')} {text}".strip()
    lines = [HEADER]
    for title, cls in SECTIONS:
        lines += [f"## `{title}`", "", (cls.__doc__ or "").strip(), "", "| key | default | meaning |", "|---|---|---|"]
        lines += [f"| `{f.name}` | `{_default(f)}` | {docs.get((cls.__name__, f.name), '')} |"
                  for f in dataclasses.fields(cls)]
        lines.append("")
    lines.append(FOOTER)
    return "\n".join(lines)


if __name__ == "__main__":
    print(config_reference_markdown(), end="")
