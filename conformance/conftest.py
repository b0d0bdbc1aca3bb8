"""Registers the conformance plugins for `pytest conformance`: no hook or fixture is defined here.

Each module is a pytest plugin of one concern, listed before any plugin that imports it (so pytest imports each one
itself). Where the order of two hooks matters they say so (tryfirst / trylast / wrappers): the cleanup is the first
sessionfinish hook, rules.json and the mock's stop the last plain one, then the wrappers (Allure environment and
not-tested results, Allure 3 labels, baseline, HAR), and the secret scrub is the outermost wrapper, after every
writer. Between two wrappers of the same kind pytest runs the later-registered one's code after `yield` last.
"""

pytest_plugins = [
    "conformance.plugins.options",  # the --conformance-* option table, checked at configure
    "conformance.plugins.core",  # options, target start-up, collection, outcomes, rules.json
    "conformance.plugins.fixtures",  # target, client, governor, mock control, Allure labels
    "conformance.plugins.reporting",  # Allure attachments, environment and not-tested results
    "conformance.plugins.allure3",  # Allure 3 env label and known issues (after the not-tested results exist)
    "conformance.plugins.baseline",  # new/fixed against a baseline
    "conformance.plugins.recording",  # exchanges.har (after rules.json and the baseline)
    "conformance.plugins.safety",  # cleanup, unavailable runs, safety.json, redaction
    "conformance.plugins.parallel",  # -n N (pytest-xdist): target handover, the run's lock and board, workers' results
]
