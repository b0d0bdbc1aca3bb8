"""Every `--conformance-*` option checked before anything runs: a table of parsers, one line naming the option and
the fix on a bad value (`ConfigError`, so exit 4), and the checks that need the resolved target (keys in clear).

Extend `CHECKS` with a row per new option: `Option(dest, flag, parse)`, where `parse` returns the converted value
or raises `ValueError("what to do")`."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.data import inputs
from conformance.data.exceptions import ConfigError

Parse = Callable[[Any], Any]


@dataclass(frozen=True)
class Option:
    dest: str  # pytest's attribute name, e.g. conformance_budget
    flag: str  # as the user types it, e.g. --conformance-budget
    parse: Parse


def number(kind: type[int] | type[float], *, minimum: float, above: bool = False, maximum: float | None = None,
           example: str = "") -> Parse:
    """A number >= minimum (> minimum when `above`), <= maximum; NaN and infinities are refused."""
    word = "an integer" if kind is int else "a number"
    bound = f"{'>' if above else '>='} {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")
    hint = f"use {word} {bound}" + (f", e.g. {example}" if example else "")

    def parse(raw: Any) -> Any:
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            raise ValueError(f"not {word} — {hint}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a finite number — {hint}")
        if value < minimum or (above and value == minimum) or (maximum is not None and value > maximum):
            raise ValueError(f"out of range — {hint}")
        return value
    return parse


def choice(*values: str) -> Parse:
    def parse(raw: Any) -> str:
        if str(raw) not in values:
            raise ValueError(f"unknown value — use one of: {', '.join(values)}")
        return str(raw)
    return parse


def existing_file(what: str) -> Parse:
    def parse(raw: Any) -> Path:
        path = Path(str(raw)).expanduser()
        if not path.exists():
            raise ValueError(f"no such file — name an existing {what} (or leave the option out)")
        if not path.is_file():
            raise ValueError(f"not a file — name a {what}, not a directory")
        return path
    return parse


def folder(raw: Any) -> str:
    path = Path(str(raw)).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError("is a file — name a folder for the reports (created when missing)")
    return str(raw)


def target(raw: Any) -> str:
    text = str(raw)
    parts = urlsplit(text)
    if text in ("mock", "testnet") or (parts.scheme in ("http", "https") and parts.hostname):
        return text
    raise ValueError("unknown target — use mock, testnet, or an http(s) base URL such as http://127.0.0.1:8765")


def ws_url(raw: Any) -> str:
    parts = urlsplit(str(raw))
    if parts.scheme in ("ws", "wss") and parts.hostname:
        return str(raw)
    raise ValueError("not a WebSocket URL — use ws:// or wss://, e.g. ws://127.0.0.1:8765/ws")


CHECKS: list[Option] = [
    Option("conformance_target", "--conformance-target", target),
    Option("conformance_budget", "--conformance-budget",
           number(float, minimum=0, above=True, example="0.5 (half the documented limits)")),
    Option("conformance_examples", "--conformance-examples", number(int, minimum=1, maximum=100_000, example="10")),
    Option("conformance_seed", "--conformance-seed", number(int, minimum=0, example="20261125")),
    Option("conformance_profile", "--conformance-profile", choice("full", "testnet")),
    Option("conformance_deviations", "--conformance-deviations", existing_file("deviations YAML file")),
    Option("conformance_reports", "--conformance-reports", folder),
    Option("conformance_ws_url", "--conformance-ws-url", ws_url),
]


def check(config: Any, checks: Sequence[Option] = CHECKS) -> None:
    """Parse every option in the table in place; the first bad one is a one-line ConfigError."""
    for option in checks:
        raw = config.getoption(option.dest, None)
        if raw is None:
            continue
        try:
            setattr(config.option, option.dest, option.parse(raw))
        except ValueError as exc:
            raise ConfigError(f"{option.flag}={raw}: {exc}") from None
    url = str(config.getoption("conformance_target", "mock"))
    if url not in ("mock", "testnet"):  # before any request: resolving a URL target already probes it
        keys = bool(os.environ.get("ZTDX_API_KEY") or os.environ.get("ZTDX_API_SECRET"))
        refuse_keys_in_clear(url, keys, allowed=bool(config.getoption("conformance_allow_insecure_http", False)))
    ws = config.getoption("conformance_ws_url", None)
    if ws is not None:  # a listenKey goes over it: the same rule as the API key over http://
        keys = bool(os.environ.get("ZTDX_API_KEY") or os.environ.get("ZTDX_API_SECRET"))
        refuse_keys_in_clear(str(ws).replace("ws", "http", 1), keys,
                             allowed=bool(config.getoption("conformance_allow_insecure_http", False)))
    deviations = config.getoption("conformance_deviations", None)
    if deviations is not None:  # a file the user named is checked now, before any target starts
        inputs.load(Path(deviations), "deviations", "deviations file")


def is_loopback(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_keys_in_clear(base_url: str, has_credentials: bool, *, allowed: bool) -> None:
    """Signed requests carry the API key header: never over plain HTTP to a host off this machine."""
    if has_credentials and urlsplit(base_url).scheme == "http" and not is_loopback(base_url) and not allowed:
        raise ConfigError(f"refusing to send the API key in clear text to {base_url} — use https://, a loopback "
                          "address, or pass --conformance-allow-insecure-http")


@pytest.hookimpl(specname="pytest_addoption")
def pytest_conformance_options_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "fapi contract conformance")
    group.addoption("--conformance-allow-insecure-http", action="store_true",
                    help="allow credentials over plain http:// to a host that is not loopback (keys in clear text)")
