"""`python -m conformance.mock --host 127.0.0.1 --port 8765`: run the mock standalone in the foreground."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .limits import scaled_limits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--limits-scale", type=int, default=1,
                        help="multiply the documented rate limits (2400 weight, 1200 orders per minute) by this")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_app(seed=args.seed, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
                     limits=scaled_limits(args.limits_scale))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
