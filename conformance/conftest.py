"""Loads the conformance plugin and fixtures for `pytest conformance`."""

from conformance.allure3 import *  # noqa: F403
from conformance.baseline_plugin import *  # noqa: F403
from conformance.fixtures import *  # noqa: F403
from conformance.fixtures import _conformance_labels  # noqa: F401 — a star import skips private names
from conformance.options import *  # noqa: F403
from conformance.plugin import *  # noqa: F403
from conformance.recording import *  # noqa: F403
from conformance.reporting import *  # noqa: F403
from conformance.safety import *  # noqa: F403
