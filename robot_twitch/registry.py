"""Registries: one per family of interchangeable parts (drives, learners, body-change kinds, tasks).

In the style of MuJoCo Playground's registries: a family is a dict of factories by name. The
config's allowed names (a ``Literal`` of the names), the generated docs/config.md and the CLI
help are all read from the registry, so a new entry is known everywhere once it is registered::

    DRIVE_REGISTRY.add("passive", PassiveDrive, PassiveConfig)

Each entry is ``(factory, config, doc, meta)``: what builds the part, the frozen dataclass of its
settings (None when it has none), a one-line description (by default the first line of the
config's, else the factory's, docstring) and what else the family needs to know of it (e.g. a
task's gymnasium id; empty for most families).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple


class Entry(NamedTuple):
    """One registered part."""

    factory: Callable[..., Any]
    """Builds the part (a class or a function)."""
    config: type | None
    """The frozen dataclass of its settings, or None."""
    doc: str
    """One line: what the part is."""
    meta: Mapping[str, Any] = MappingProxyType({})
    """Family-specific facts about the part (read-only), e.g. a task's gymnasium id."""


class Registry(Mapping[str, Entry]):
    """Name -> Entry for one family; a read-only mapping with ``add`` to register a part.

    Args:
        family: what the entries are, for messages ("drive", "learner", ...).
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._entries: dict[str, Entry] = {}

    def add(self, name: str, factory: Callable[..., Any], config: type | None = None, doc: str = "",
            meta: Mapping[str, Any] | None = None) -> None:
        """Register ``factory`` (and its settings class ``config``, and the family's ``meta``) as
        ``name``; ``add(name, *entry)`` registers a copy of an entry."""
        if not name.isidentifier():
            raise ValueError(f"{self.family} name {name!r} is invalid: expected a Python identifier")
        if name in self._entries:
            raise ValueError(f"{self.family} {name!r} is registered twice")
        self._entries[name] = Entry(factory, config, doc or _first_line(config) or _first_line(factory),
                                    MappingProxyType(dict(meta or {})))

    def __getitem__(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(self.unknown(name)) from None

    def unknown(self, name: object) -> str:
        """The message for a name that is not registered (with a did-you-mean)."""
        hint = difflib.get_close_matches(str(name), list(self._entries), n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"{self.family} {name!r} is not registered: expected one of {self.names()}{extra}"

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def literal(self) -> Any:
        """``Literal[name, ...]`` of the registered names, for a config field's type."""
        return Literal.__getitem__(self.names())  # type: ignore[attr-defined]

    def describe(self, sep: str = "; ") -> str:
        """'name: doc' for every entry (CLI help, docs)."""
        return sep.join(f"{name}: {entry.doc}" for name, entry in self._entries.items())


def _first_line(obj: Any) -> str:
    doc = getattr(obj, "__doc__", None) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ").strip() if obj is not None else ""
