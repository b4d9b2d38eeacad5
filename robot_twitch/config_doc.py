"""docs/config.md, generated from the config dataclasses and their field docstrings.

`python -m robot_twitch.config_doc > docs/config.md` rewrites it; a test keeps it in sync.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import sys
import typing
from collections.abc import Mapping

from robot_twitch import config as C
from robot_twitch.body.changes import BODY_CHANGE_REGISTRY
from robot_twitch.learn.registry import LEARNER_REGISTRY
from robot_twitch.motor import DRIVE_REGISTRY
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

FOOTER = """## Learner parameters

`learners.params.NAME` holds keyword arguments of the learner's constructor (docs/learners.md), e.g.
`{forward: {hidden: [128, 128], updates_per_batch: 30}}`.
"""


@functools.cache
def _module_field_docs(module_name: str) -> dict[tuple[str, str], str]:
    """(class name, field name) -> the field's docstring, for every class in a module's source."""
    docs = {}
    for node in ast.parse(inspect.getsource(sys.modules[module_name])).body:
        if isinstance(node, ast.ClassDef):
            for first, second in zip(node.body, node.body[1:], strict=False):
                if (isinstance(first, ast.AnnAssign) and isinstance(first.target, ast.Name)
                        and isinstance(second, ast.Expr) and isinstance(second.value, ast.Constant)):
                    docs[(node.name, first.target.id)] = " ".join(str(second.value.value).split())
    return docs


def _field_doc(cls: type, field: dataclasses.Field) -> str:
    """A field's docstring: from the source of the class (or a base) that declares it, else the
    ``doc`` of its metadata (fields generated from a registry)."""
    for klass in cls.__mro__:
        if dataclasses.is_dataclass(klass):
            text = _module_field_docs(klass.__module__).get((klass.__name__, field.name))
            if text:
                return text
    return " ".join(str(field.metadata.get("doc", "")).split())


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return repr(dict(field.default) if isinstance(field.default, Mapping) else field.default)
    if field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
        return "(section)" if dataclasses.is_dataclass(value) else repr(dict(value) if isinstance(value, Mapping) else value)
    return "required"


def _registered() -> dict[tuple[str, str], str]:
    """Fields whose allowed values are a registry's names: their doc ends with the registered parts."""
    return {("DriveSection", "kind"): "Registered drives: " + DRIVE_REGISTRY.describe(),
            ("LearnerSection", "names"): "Registered learners: " + LEARNER_REGISTRY.describe(),
            ("BodyChange", "kind"): "Registered body-change kinds: " + BODY_CHANGE_REGISTRY.describe(),
            **_body_change_keys()}


def _body_change_keys() -> dict[tuple[str, str], str]:
    """Per body_changes[] key: the registered kinds that need it and those that read it."""
    extra = {}
    for f in dataclasses.fields(C.BodyChange):
        kinds = {name: entry.factory for name, entry in BODY_CHANGE_REGISTRY.items()}
        needed = [name for name, kind in kinds.items() if f.name in kind.needs]
        read = [name for name, kind in kinds.items() if f.name in kind.keys() and name not in needed]
        parts = ([f"Needed by {', '.join(needed)}."] if needed else []) + ([f"Read by {', '.join(read)}."] if read else [])
        if parts:
            extra[("BodyChange", f.name)] = " ".join(parts)
    return extra


def _table(title: str, cls: type, extra: dict[tuple[str, str], str], level: str = "##") -> list[str]:
    lines = [f"{level} `{title}`", "", (cls.__doc__ or "").strip(), "", "| key | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(cls):
        doc = f"{_field_doc(cls, f)} {extra.get((cls.__name__, f.name), '')}".strip()
        lines.append(f"| `{f.name}` | `{_default(f)}` | {doc} |")
    return [*lines, ""]


def _drive_tables() -> list[str]:
    """One table per registered drive's settings (``drive.NAME``), nested sections included."""
    lines = ["## Drive settings", "",
             "Each registered drive reads its own section `drive.NAME` (only the running drive's is used); "
             "docs/motor.md explains the model behind the fields.", ""]
    todo = [(f"drive.{name}", entry.config) for name, entry in DRIVE_REGISTRY.items() if entry.config is not None]
    while todo:
        title, cls = todo.pop(0)
        lines += _table(title, cls, {}, level="###")
        hints = typing.get_type_hints(cls)
        todo[:0] = [(f"{title}.{f.name}", hints[f.name]) for f in dataclasses.fields(cls)
                    if dataclasses.is_dataclass(hints[f.name])]
    return lines


def _task_tables() -> list[str]:
    """The registered tasks (gymnasium envs), each with its id and its settings (``task_config=``)."""
    from robot_twitch.envs.tasks import TASK_REGISTRY

    lines = ["## Tasks (gymnasium envs)", "",
             "Not part of an experiment config: the gymnasium envs' tasks, from the task registry "
             "(robot_twitch/envs/tasks.py `TASK_REGISTRY`). `gymnasium.make(ENV_ID, task_config={...})` takes "
             "the keys below; `task=NAME` picks another registered task.", ""]
    for name, entry in TASK_REGISTRY.items():
        lines += [f"### `{name}`: `{entry.meta['env_id']}`", "", entry.doc, ""]
        if entry.config is None:
            lines += ["No settings.", ""]
            continue
        lines += ["| key | default | meaning |", "|---|---|---|"]
        lines += [f"| `{f.name}` | `{_default(f)}` | {_field_doc(entry.config, f)} |"
                  for f in dataclasses.fields(entry.config)]
        lines.append("")
    return lines


def config_reference_markdown() -> str:
    extra = _registered()
    lines = [HEADER]
    for title, cls in SECTIONS:
        lines += _table(title, cls, extra)
    lines.append(FOOTER)
    lines += _drive_tables()
    lines += _task_tables()
    return "\n".join(lines)


if __name__ == "__main__":
    print(config_reference_markdown(), end="")
