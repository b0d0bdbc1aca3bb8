"""Input files checked at load: YAML read with line and column, held to `fixtures/schemas/*.schema.json`.

Every problem is one `ConfigError` line, `FILE:LINE:COL: what is wrong — what to do` (the plugin turns it into a
usage error, exit 4). The fast libyaml loader reads the data; the node tree (with PyYAML's marks) is composed only
when something is wrong, to say where."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from conformance import FIXTURES
from conformance.data.exceptions import SAFE_LOADER, ConfigError

SCHEMAS = FIXTURES / "schemas"
CASES = FIXTURES / "cases"
_UNEXPECTED = re.compile(r"\((.+?) (?:was|were) unexpected\)")
_REQUIRED = re.compile(r"^'(.+)' is a required property")


def shown(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when it is below it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


def located(path: Path, line: int, column: int, what: str, todo: str) -> str:
    return f"{shown(path)}:{line}:{column}: {what} — {todo}"


def parse(path: Path, what: str, error: type[ConfigError] = ConfigError) -> tuple[Any, str]:
    """The YAML data of `path` and its text; a missing, unreadable or malformed file is one `error` line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{shown(path)}: {what} not found — check the path (a repository file: git checkout it)") from None
    except IsADirectoryError:
        raise error(f"{shown(path)}: {what} is a directory — name a YAML file") from None
    except UnicodeDecodeError:
        raise error(located(path, 1, 1, f"{what} is not UTF-8 text", "save it as UTF-8")) from None
    except OSError as exc:
        raise error(f"{shown(path)}: {what} cannot be read ({exc.strerror}) — check its permissions") from None
    try:
        return yaml.load(text, Loader=SAFE_LOADER), text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{context}, {problem}" if context else problem
        raise error(located(path, line, column, f"invalid YAML ({detail})", "fix the syntax there")) from None
    except (ValueError, TypeError) as exc:  # well-formed YAML whose value cannot be built, e.g. 2027-02-30
        line, column = _unbuildable(text)
        what = f"a value cannot be read ({exc})"
        raise error(located(path, line, column, what, "write a valid value there")) from None


def _unbuildable(text: str) -> tuple[int, int]:
    """Where the first scalar that PyYAML cannot construct (a date that does not exist...) is."""
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node, deep=True)
            except (ValueError, TypeError, yaml.YAMLError):
                return node.start_mark.line + 1, node.start_mark.column + 1
        elif isinstance(node, yaml.MappingNode):
            stack[:0] = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack[:0] = list(node.value)
    return 1, 1


def position(text: str, where: Sequence[Any]) -> tuple[int, int]:
    """Line and column (1-based) of the node at JSON path `where` (the deepest one that exists)."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return 1, 1
    mark = node.start_mark if node is not None else None
    for step in where:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if pair is None:
                break
            mark, node = pair[0].start_mark, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            mark = node.start_mark
        else:
            break
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def jsonable(value: Any) -> Any:
    """YAML's dates as ISO strings, so that JSON Schema (which knows no dates) can check them."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _explain(err: ValidationError) -> tuple[list[Any], str, str]:
    """(JSON path to point at, what is wrong, what to do) for one schema error."""
    where = list(err.absolute_path)
    hint = str(err.schema.get("description", "")) if isinstance(err.schema, dict) else ""
    name = ".".join(str(p) for p in where) or "the document"
    if err.validator in ("additionalProperties", "unevaluatedProperties"):
        keys = _UNEXPECTED.search(err.message)
        unknown = keys.group(1).split(", ")[0].strip("'") if keys else "?"
        allowed = sorted(err.schema.get("properties", {})) if isinstance(err.schema, dict) else []
        todo = f"remove it, or use one of: {', '.join(allowed)}" if allowed else "remove it"
        return [*where, unknown], f"unknown key {unknown!r} in {name}", todo
    if err.validator == "required":
        found = _REQUIRED.match(err.message)
        field = found.group(1) if found else "?"
        return where, f"{name} lacks {field!r}", f"add {field}" + (f" ({hint})" if hint else "")
    if err.validator == "enum":
        return where, f"{name} is {err.instance!r}", f"use one of: {', '.join(map(str, err.validator_value))}"
    message = err.message if len(err.message) <= 120 else err.message[:117] + "..."
    return where, f"{name}: {message}", hint or f"fix {name} to match fixtures/schemas ({err.validator})"


def check(path: Path, text: str, data: Any, schema: str, error: type[ConfigError] = ConfigError) -> None:
    """Hold `data` (read from `path`, whose `text` is given) to `fixtures/schemas/<schema>.schema.json`."""
    err = best_match(validator(schema).iter_errors(jsonable(data)))
    if err is not None:
        where, what, todo = _explain(err)
        raise error(located(path, *position(text, where), what, todo))


def load(path: Path, schema: str, what: str, error: type[ConfigError] = ConfigError) -> Any:
    """Read a YAML input file and check it against its schema; every problem is one located `error` line."""
    data, text = parse(path, what, error)
    check(path, text, data, schema, error)
    return data


def fail_at(path: Path, where: Sequence[Any], what: str, todo: str,
            error: type[ConfigError] = ConfigError) -> ConfigError:
    """A located error for a problem the schema cannot see (a duplicate, an unknown rule ID...)."""
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    return error(located(path, *position(text, where), what, todo))


def case_files(root: Path = CASES) -> Iterable[Path]:
    return sorted(root.rglob("*.yaml"))


def check_cases(root: Path = CASES) -> int:
    """Every case file under fixtures/cases against the case-file schema; returns how many were checked."""
    files = list(case_files(root))
    for path in files:
        load(path, "cases", "case file")
    return len(files)
