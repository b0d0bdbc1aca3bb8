"""What a run did that the end of the run reports or undoes: one object, held by the run's state (RunState.journal)
and handed to every client of the run — no module-level list collects it.

- `orders_sent`: order-creating requests sent (the cleanup runs when > 0);
- `retries`: every retry made (safety.json and the summary);
- `unknown_outcomes`: every unknown-outcome 503 reconciled by clientOrderId (never resubmitted);
- `factories`: every OrderFactory, whose orders the end-of-run cleanup cancels.

A client made without one (a unit self-test, a one-off call) keeps a journal of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.harness.reconcile import Finding
    from conformance.harness.retry import RetryRecord


@dataclass(eq=False)
class Journal:
    orders_sent: int = 0
    retries: list[RetryRecord] = field(default_factory=list)
    unknown_outcomes: list[Finding] = field(default_factory=list)
    factories: list[Any] = field(default_factory=list)  # OrderFactory: orders imports the client, which imports this
