"""How a run talks to a target: the signed client, the rate-limit governor, targets, run state,
outcomes and results, orders and their cleanup, the WebSocket client, schemathesis' adapter.
Imports data and checks, never the plugins or the tests."""
