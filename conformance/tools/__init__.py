"""Command-line tools around the suite: drift against a recording, offline replay, the nightly matrix
and job summary, and the hooks for `st run`."""
