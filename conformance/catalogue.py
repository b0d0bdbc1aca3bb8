"""The rule catalogue: `fixtures/rules.yaml` loaded into immutable `Rule` records, validated on load."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from conformance import FIXTURES
from conformance.errors import CatalogueError, read_yaml

RULES_PATH = FIXTURES / "rules.yaml"
LEVELS = ("MUST", "SHOULD")
ID_PATTERN = re.compile(r"^[a-z0-9]+\.[A-Za-z0-9][A-Za-z0-9-]*$")
REQUIRED = ("id", "title", "level", "section", "link", "quote")
OPTIONAL = ("source", "messages", "note", "operation")


@dataclass(frozen=True)
class Rule:
    """One documented requirement, quoted verbatim from its doc."""

    id: str
    title: str
    level: str
    section: str
    link: str
    quote: str
    source: str = "general-info"
    messages: tuple[str, ...] = field(default=())
    note: str = ""
    operation: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def is_must(self) -> bool:
        return self.level == "MUST"


class Catalogue(Mapping[str, Rule]):
    """Rules by ID; looking up an unknown ID raises `CatalogueError`."""

    def __init__(self, rules: list[Rule], path: Path) -> None:
        self._rules = {rule.id: rule for rule in rules}
        self.path = path

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise CatalogueError(
                f"unknown rule ID {rule_id!r}: add it to {self.path.name} or fix the reference"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)


def _entry_error(path: Path, index: int, entry: Any, problem: str) -> CatalogueError:
    ident = entry.get("id", f"#{index + 1}") if isinstance(entry, dict) else f"#{index + 1}"
    return CatalogueError(f"{path.name}: entry {ident}: {problem}")


def _parse_entry(path: Path, index: int, entry: Any) -> Rule:
    if not isinstance(entry, dict):
        raise _entry_error(path, index, entry, "must be a mapping")
    missing = [key for key in REQUIRED if not str(entry.get(key, "")).strip()]
    if missing:
        raise _entry_error(path, index, entry, f"missing {', '.join(missing)}")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise _entry_error(path, index, entry, f"unknown key(s) {', '.join(unknown)}")
    if not ID_PATTERN.match(entry["id"]):
        raise _entry_error(path, index, entry, "id must look like 'area.slug'")
    if entry["level"] not in LEVELS:
        raise _entry_error(path, index, entry, f"level must be one of {', '.join(LEVELS)}")
    messages = entry.get("messages") or ()
    if not isinstance(messages, list | tuple) or not all(isinstance(m, str) for m in messages):
        raise _entry_error(path, index, entry, "messages must be a list of strings")
    values = {key: entry[key] for key in REQUIRED + OPTIONAL if key in entry}
    values["messages"] = tuple(messages)
    return Rule(**values)


def load(path: Path = RULES_PATH) -> Catalogue:
    """Load and validate a catalogue file; every problem is a one-line `CatalogueError`."""
    data = read_yaml(path, "rule catalogue", CatalogueError)
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise CatalogueError(f"{path.name} must be a mapping with a 'rules' list")
    rules = [_parse_entry(path, i, entry) for i, entry in enumerate(data["rules"])]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise CatalogueError(f"{path.name}: duplicate rule ID {rule.id!r}")
        seen.add(rule.id)
    return Catalogue(rules, path)


@cache
def default() -> Catalogue:
    """The project catalogue, loaded once."""
    return load(RULES_PATH)
