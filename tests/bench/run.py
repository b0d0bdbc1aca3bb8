"""`python tests/bench/run.py [--repeats N] [--quick]`: side-by-side figures in reports/bench.json and a table.

Figures are medians over repeated subprocess runs (time.perf_counter); nothing here asserts a time. Every load is
bounded in count and time and goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# The bench modules sit beside this script, not in a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_mock
import bench_scaling
import bench_schema
import bench_suite
import bench_ws
from bench_common import PYTHON, ROOT, machine

SECTIONS = ("full", "parallel", "schema", "testnet", "scaling", "mock", "ws")
FULL = {"compare_examples": 10, "examples": (10, 50, 100), "latencies": (0, 50, 150), "latency_examples": 10,
        "load_total": 40_000, "load_seconds": 10.0}
QUICK = {"compare_examples": 5, "examples": (2, 5, 10), "latencies": (0, 50), "latency_examples": 5,
         "load_total": 5_000, "load_seconds": 3.0}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python tests/bench/run.py", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: one run each, fewer examples, short load")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench.json")
    parser.add_argument("--render", action="store_true", help="measure nothing: print the table of --out again")
    return parser.parse_args(argv)


def warm_up() -> None:
    """One untimed collection first: compiles (and caches) the bytecode the first timed run would otherwise pay for."""
    subprocess.run([PYTHON, "-m", "pytest", "conformance", "--collect-only", "-q", "-p", "no:cacheprovider"],
                   cwd=ROOT, capture_output=True, timeout=300, check=False)


def measure(sections: list[str], repeats: int, plan: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    # Every figure but the full run's generates its cases afresh, as `st run` does (full_run sets its own cache).
    os.environ[bench_suite.CASE_CACHE_VAR] = "off"
    warm_up()
    for name in sections:
        print(f"bench: {name} ...", flush=True)
        try:
            results |= _section(name, repeats, plan)
        except Exception as exc:  # one broken section must not lose the figures the others measured
            results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
            print(f"bench: {name} FAILED: {type(exc).__name__}: {exc}", flush=True)
    return results


def _section(name: str, repeats: int, plan: dict[str, Any]) -> dict[str, Any]:
    """The figures of one section, under their bench.json keys."""
    if name == "full":
        return {"full_run": bench_suite.full_run(repeats)}
    if name == "parallel":
        return {"parallel": bench_suite.parallel(repeats)}
    if name == "schema":
        return {"schema_vs_st": bench_schema.compare(repeats, plan["compare_examples"])}
    if name == "testnet":
        return {"testnet_profile": bench_suite.testnet_profile(repeats)}
    if name == "scaling":
        return {"scaling_examples": bench_scaling.by_examples(repeats, plan["examples"]),
                "scaling_latency": bench_scaling.by_latency(repeats, plan["latencies"], plan["latency_examples"])}
    if name == "mock":
        return {"mock_throughput": bench_mock.mock_throughput(total=plan["load_total"], seconds=plan["load_seconds"])}
    if name == "ws":
        return {"ws": bench_ws.measure(seconds=plan["load_seconds"] / 2)}
    raise ValueError(f"unknown bench section {name!r}")


def _exits(figure: dict[str, Any]) -> str:
    """A run that exited non-zero is named in its row (its FAILED lines are in bench.json and printed below)."""
    codes = figure.get("exit_codes", [])
    return f"; exit codes {codes}" if any(codes) else ""


def _goal(met: bool) -> str:
    return "met" if met else "MISSED"


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out = []
    if "full_run" in r:
        f = r["full_run"]
        goal = f.get("goal_seconds", 60)
        out.append(("1. full conformance run (bundled mock; generated cases kept from an earlier run)",
                    f"{f['seconds']:.1f} s ({f['requests']} requests, {f['paced_seconds']} s paced{_exits(f)})",
                    f"<= {goal} s", _goal(f["seconds"] <= goal)))
        if "cold_seconds" in f:
            out.append(("1. (beside it) the first run: empty case cache, every case generated",
                        f"{f['cold_seconds']:.1f} s (one run)", "-", "for reference"))
        if "physical_limit" in f:
            p = f["physical_limit"]
            out.append(("1. (beside it) physical limit: requests x loopback round trip + bare pytest start-up",
                        f"{p['requests']} x {p['round_trip_ms']:.2f} ms + {p['startup_seconds']:.1f} s = "
                        f"{p['seconds']:.1f} s; full run / limit = {p['ratio']}", "-", "for reference"))
    if "parallel" in r:
        p = r["parallel"]
        out.append((f"1. full run serial vs -n {p['workers']} (pytest-xdist), side by side",
                    f"{p['serial_seconds']:.1f} s / {p['parallel_seconds']:.1f} s = {p['ratio']} (same verdicts: "
                    f"{p['same_verdicts']}; peak {p['peak_weight_1m']}/{p['weight_budget_1m']}, 429s: "
                    f"{p['http_429']}{_exits(p)})", "same verdicts, budget held",
                    _goal(p["same_verdicts"] and p["http_429"] == 0)))
    if "schema_vs_st" in r:
        s = r["schema_vs_st"]
        out.append((f"2. schema module vs st run --mode positive + --mode negative ({len(s['operations'])} public "
                    f"ops, {s['examples']} examples)",
                    f"{s['suite']['seconds']:.1f} s / {s['st']['seconds']:.1f} s = {s['ratio']:.2f} "
                    f"({s['suite']['requests']} / {s['st']['requests']} requests"
                    f"{_exits(s['suite'])}{_exits(s['st'])})", "<= 0.7", _goal(s["ratio"] <= 0.7)))
        if "suite_warm" in s:
            w = s["suite_warm"]
            out.append(("2. (beside it) the same, cases read from the case cache (a user's second run)",
                        f"{w['seconds']:.1f} s / {s['st']['seconds']:.1f} s = {s['ratio_warm']:.2f} "
                        f"({w['requests']} / {s['st']['requests']} requests{_exits(w)})", "-", "for reference"))
        if "st_mode_all" in s:
            a = s["st_mode_all"]
            out.append(("2. (beside it) schema module vs one st run --mode all (both modes share one fuzzing budget)",
                        f"{s['suite']['seconds']:.1f} s / {a['seconds']:.1f} s = {s['ratio_mode_all']:.2f} "
                        f"({s['suite']['requests']} / {a['requests']} requests)", "-", "for reference"))
    if "testnet_profile" in r:
        t = r["testnet_profile"]
        out.append(("3. testnet profile (against the mock)", f"{t['requests']} requests, weight {t['total_weight']}, "
                    f"peak {t['peak_share']:.0%} of {t['documented_limit_1m']}/min, 429s: {t['http_429']}{_exits(t)}",
                    "<= 50 %, no 429", _goal(t["peak_share"] <= 0.5 and t["http_429"] == 0)))
    for row in r.get("scaling_examples", []):
        out.append((f"4. schema module, {row['examples']} examples/op (all cases sent)",
                    f"{row['seconds']:.1f} s, {row['requests']} requests, {row['ms_per_request']} ms/request",
                    "linear in examples", f"{row['off_line_pct']:+.1f} % off a line"))
    for row in r.get("scaling_latency", []):
        exposed = row["latency_exposed"]
        out.append((f"4. schema module, +{row['latency_ms']} ms mock latency",
                    f"{row['seconds']:.1f} s, {row['requests']} requests", "<= 0.25 exposed",
                    f"{exposed} exposed: {_goal(exposed <= 0.25)}" if exposed is not None else "baseline"))
    if "mock_throughput" in r:
        m = r["mock_throughput"]
        out.append((f"5. mock throughput ({m['endpoint']}, {m['connections']} connections)",
                    f"{m['rps']:.0f} req/s ({m['requests']} requests, {m['non_2xx']} non-2XX)", ">= 2000 req/s",
                    _goal(m["rps"] >= 2000 and m["non_2xx"] == 0)))
    if "ws" in r:
        t, c = r["ws"]["throughput"], r["ws"]["cost"]
        out.append((f"6. mock /ws events ({t['connections']} connections, cadences x{bench_ws.SCALE})",
                    f"{t['events_per_second']} events/s received of {t['offered_per_second']} offered", "-",
                    "for reference"))
        out.append(("6. suite cost per checked WebSocket frame (public-stream checks)",
                    f"{c['us_per_frame']} us/frame ({c['frames']} frames)", "-", "for reference"))
    for name, error in r.get("errors", {}).items():
        out.append((f"section {name}", f"not measured: {error}", "-", "ERROR"))
    return out


def table(r: dict[str, Any]) -> str:
    lines = [("measure", "median", "goal", "verdict"), *rows(r)]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    text = [fmt.format(*lines[0]), "-+-".join("-" * w for w in widths)]
    return "\n".join(text + [fmt.format(*line) for line in lines[1:]])


def markdown(report: dict[str, Any]) -> str:
    """The same table as Markdown, for the README's performance section."""
    m = report["machine"]
    head = (f"Measured {m['date']} on {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}; "
            f"medians of {report['repeats']} run(s).\n\n| measure | median | goal | verdict |\n|---|---|---|---|\n")
    return head + "\n".join(f"| {' | '.join(cell.replace('|', '/') for cell in row)} |"
                             for row in rows(report["results"])) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    repeats = 1 if args.quick else max(1, args.repeats)
    plan = QUICK if args.quick else FULL
    if args.render:
        report = json.loads(args.out.read_text())
    else:
        sections = [s for s in args.only.split(",") if s in SECTIONS]
        results = measure(sections, repeats, plan)
        report = {"machine": machine(), "repeats": repeats, "quick": args.quick, "plan": plan, "results": results}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    results = report["results"]
    args.out.with_suffix(".md").write_text(markdown(report))
    m = report["machine"]
    print(f"\nmachine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, {m['date']}; "
          f"medians of {report['repeats']} run(s)\n")
    print(table(results))
    for name, figure in results.items():
        parts = [figure, *(v for v in figure.values() if isinstance(v, dict))] if isinstance(figure, dict) else []
        for line in sorted({line for part in parts for line in part.get("failures", [])}):
            print(f"{name}: {line}")
    print(f"\nwritten: {args.out}")
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
