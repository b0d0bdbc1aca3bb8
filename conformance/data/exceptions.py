"""Exception types that the outcome logic tells apart: contract, target, harness and configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ConformanceError(Exception):
    """Base of every error this suite raises on purpose."""


class ConfigError(ConformanceError):
    """Bad input from the user (target, credentials, spec, catalogue): reported as one line, never a traceback."""


class CatalogueError(ConfigError):
    """The rule catalogue is malformed or a rule ID is unknown."""


class TargetUnavailable(ConformanceError):
    """The target is throttled, banned, down or timing out outside the rule under test."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# libyaml's safe loader when PyYAML was built with it (the wheels are): 8x faster on the 100 KB spec, same data.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class HarnessError(ConformanceError):
    """The suite itself is broken (a bug, or a fixture that cannot be built)."""


class NotTested(ConformanceError):
    """A precondition answer was wrong (an example call failed, exchangeInfo is unusable), so the rule under test
    was never reached; `rule_id` names the rule that judges the precondition's own failure."""

    def __init__(self, reason: str, *, rule_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule_id = rule_id

    def line(self) -> str:
        return f"not tested: {self.reason}" + (f" (judged by {self.rule_id})" if self.rule_id else "")

    def __str__(self) -> str:  # what pytest and Allure show: the "not tested:" line, for its report category
        return self.line()


class OperationNotImplemented(NotTested):
    """A documented operation answered 404/405 to a well-formed request: its other tests cannot judge anything."""


def read_yaml(path: Path, what: str, error: type[ConfigError] = ConfigError) -> Any:
    """Parse a YAML input file; a missing or malformed file is a one-line `error`, never a traceback."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise error(f"{what} not found at {path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(f"{path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
