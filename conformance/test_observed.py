"""Every 2XX answer of the run, whichever test received it, held against its operation's response schema.

Passive: these tests run after all others (`@pytest.mark.passive`) and judge the answers the run collected
(`RunState.observe`), one test per operation, so a malformed order body is one failure of `schema.newOrder`, not a
failure of every test that placed an order. A schema rule none of whose tests saw a 2XX body is "not tested".
"""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.checks import RuleViolation
from conformance.data import contract
from conformance.data.exceptions import NotTested
from conformance.harness.session import RunState

OPERATIONS = [pytest.param(op.id, id=op.id, marks=[pytest.mark.rule(f"schema.{op.id}")])
              for op in sorted(contract.default().operations.values(), key=lambda o: o.id)]


@pytest.mark.passive
@pytest.mark.parametrize("op_id", OPERATIONS)
def test_every_2xx_answer_seen_in_the_run_matches_its_schema(op_id: str, run_state: RunState) -> None:
    seen = list(run_state.answers.get(op_id, ()))
    if not seen:
        raise NotTested(f"nothing to judge: no 2XX answer of {op_id} was seen in this run")
    violations = [v for ex in seen for v in checks.run(ex, [f"schema.{op_id}"])]
    if violations:
        first = violations[0]
        raise RuleViolation(first.rule_id, first.expected, first.actual, exchange=first.exchange,
                            detail=f"{len(violations)} of the {len(seen)} 2XX answers of {op_id} seen in the run")
