"""The pytest plugins (registered by conformance/conftest.py's `pytest_plugins`): options and start-up,
outcomes and rules.json, safety and redaction, HAR recording, Allure reporting, baselines, fixtures."""
