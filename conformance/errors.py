"""Exception types that the outcome logic tells apart: contract, target, harness and configuration."""

from __future__ import annotations


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


class HarnessError(ConformanceError):
    """The suite itself is broken (a bug, or a fixture that cannot be built)."""
