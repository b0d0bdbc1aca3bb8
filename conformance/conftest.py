"""Loads the conformance plugin and fixtures for `pytest conformance`."""

from conformance.fixtures import *  # noqa: F403
from conformance.plugin import *  # noqa: F403
from conformance.safety import *  # noqa: F403
