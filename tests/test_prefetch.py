"""Work sent ahead of its test (conformance/harness/prefetch.py): overlapped, yet each exchange reaches the listeners
(recorder, the test's exchanges, the run's observed answers) in the test that owns it, in the serial order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conformance.data import contract
from conformance.harness import prefetch
from conformance.harness.client import Client
from conformance.harness.targets import Target

WAIT = 10.0  # seconds a test waits for background work before it fails (never reached when the code is right)


class Server:
    """A scripted target: GET /fapi/v1/depth?symbol=K answers 200; the symbols it was asked for, in order."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        symbol = parse_qs(urlsplit(str(request.url)).query).get("symbol", ["?"])[0]
        with self.lock:
            self.asked.append(symbol)
        body = json.dumps({"lastUpdateId": 1, "E": 1, "T": 1, "bids": [], "asks": []}).encode()
        return httpx.Response(200, stream=httpx.ByteStream(body), headers={"content-type": "application/json"})

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + WAIT
        while len(self.asked) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(self.asked) >= count, f"only {self.asked} were sent"


@pytest.fixture
def setup() -> Iterator[tuple[Client, Server, list[str]]]:
    server = Server()
    client = Client(Target("unit", "http://127.0.0.1:9", "mock", frozenset()), contract=contract.default())
    client.http = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(server))
    heard: list[str] = []
    client.listeners.append(lambda ex: heard.append(parse_qs(urlsplit(ex.request.url).query)["symbol"][0]))
    yield client, server, heard
    client.close()


def _same(key: str) -> str:
    return key


def _depth(client: Client) -> Callable[[str], str]:
    def work(key: str) -> str:
        client.call("GET", "/fapi/v1/depth", {"symbol": key})
        return key.lower()
    return work


def test_work_ahead_reaches_the_listeners_only_when_its_test_takes_it(setup: tuple[Client, Server, list[str]]) -> None:
    client, server, heard = setup
    fetcher = prefetch.Prefetcher(client, list("ABCD"), _same, _depth(client), lambda k: True, ahead=4)
    assert fetcher.take("A") == "a"
    server.wait_for(4)  # B, C and D were sent while A's test ran ...
    assert heard == ["A"]  # ... but A's test told only A's exchange
    assert [fetcher.take(k) for k in "BCD"] == ["b", "c", "d"]
    assert heard == list("ABCD") and sorted(server.asked) == list("ABCD")
    fetcher.close()


def test_nothing_runs_ahead_across_an_item_that_is_not_eligible(setup: tuple[Client, Server, list[str]]) -> None:
    client, server, heard = setup
    fetcher = prefetch.Prefetcher(client, ["A", "X", "B"], _same, _depth(client), lambda k: k != "X", ahead=4)
    fetcher.take("A")
    time.sleep(0.1)  # time enough for work ahead to have started, were any started
    assert server.asked == ["A"]
    fetcher.take("X")  # in its own test, alone
    assert server.asked == ["A", "X"] and heard == ["A", "X"]
    fetcher.take("B")
    assert server.asked == ["A", "X", "B"] and heard == ["A", "X", "B"]
    fetcher.close()


def test_an_item_that_is_not_ready_is_started_once_it_is_not_before(setup: tuple[Client, Server, list[str]]) -> None:
    """C's cases are still being generated elsewhere: A's test does not wait for them to judge A, and C (and D
    behind it) start as soon as they are there, while A's test waits for its own answers."""
    client, server, heard = setup
    c_ready: Future[None] = Future()
    a_answered = threading.Event()

    def send(key: str) -> str:
        if key == "A":
            a_answered.wait(WAIT)  # A's answers take their time (latency)
        return _depth(client)(key)

    fetcher = prefetch.Prefetcher(client, list("ABCD"), _same, send, lambda k: True, ahead=4,
                                  pending=lambda k: c_ready if k == "C" else None)
    taking = ThreadPoolExecutor(max_workers=1)
    taken = taking.submit(fetcher.take, "A")  # the test of A, waiting for A's answer
    server.wait_for(1)
    time.sleep(0.1)  # time enough for C and D to have started, were they started
    assert sorted(server.asked) == ["B"]  # nothing beyond C, which is not ready
    c_ready.set_result(None)  # C's cases arrive while A's test still waits
    server.wait_for(3)
    assert sorted(server.asked) == ["B", "C", "D"]
    a_answered.set()
    assert taken.result(WAIT) == "a" and heard == ["A"]
    assert [fetcher.take(k) for k in "BCD"] == ["b", "c", "d"] and heard == list("ABCD")
    taking.shutdown()
    fetcher.close()


def test_an_error_is_raised_in_the_test_that_owns_it_with_its_exchanges_told(
        setup: tuple[Client, Server, list[str]]) -> None:
    client, _, heard = setup

    def work(key: str) -> str:
        client.call("GET", "/fapi/v1/depth", {"symbol": key})
        if key == "B":
            raise RuntimeError("B broke")
        return key

    fetcher = prefetch.Prefetcher(client, list("ABC"), _same, work, lambda k: True, ahead=3)
    assert fetcher.take("A") == "A" and heard == ["A"]
    with pytest.raises(RuntimeError, match="B broke"):
        fetcher.take("B")
    assert heard == ["A", "B"]
    assert fetcher.take("C") == "C" and heard == ["A", "B", "C"]
    fetcher.close()


def test_closing_tells_what_was_sent_and_not_taken_and_sends_nothing_more(
        setup: tuple[Client, Server, list[str]]) -> None:
    client, server, heard = setup
    fetcher = prefetch.Prefetcher(client, list("ABCDE"), _same, _depth(client), lambda k: True, ahead=3)
    fetcher.take("A")  # A, B and C started; D and E not (3 ahead at most)
    server.wait_for(3)
    fetcher.close()  # e.g. -x after A: B and C were sent, so they are recorded; D and E never go out
    assert sorted(server.asked) == ["A", "B", "C"] and heard[0] == "A" and sorted(heard) == ["A", "B", "C"]


def test_gathered_works_are_told_in_the_works_order_with_the_first_error(
        setup: tuple[Client, Server, list[str]]) -> None:
    client, _, heard = setup

    def send(key: str) -> Callable[[], str]:
        def work() -> str:
            time.sleep(0.05 if key == "A" else 0)  # A answers last
            client.call("GET", "/fapi/v1/depth", {"symbol": key})
            if key in ("B", "C"):
                raise ValueError(key)
            return key
        return work

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcome = prefetch.gather(client, pool, [send(k) for k in "ABCD"])
    assert heard == []  # held, not told
    assert [ex.request.url.split("symbol=")[1][:1] for ex in outcome.held] == list("ABCD")
    assert isinstance(outcome.error, ValueError) and str(outcome.error) == "B"
    client.release(outcome.held)
    assert heard == list("ABCD")


def test_prepare_runs_in_the_test_s_thread_and_its_error_is_the_owner_s(
        setup: tuple[Client, Server, list[str]]) -> None:
    """Case generation (prepare) never runs in a worker thread: CPython 3.11's `ast` is not safe in two threads."""
    client, _, heard = setup
    threads: dict[str, str] = {}

    def prepare(key: str) -> str:
        threads[key] = threading.current_thread().name
        if key == "C":
            raise LookupError("no cases for C")
        return key

    fetcher = prefetch.Prefetcher(client, list("ABCD"), prepare, _depth(client), lambda k: True, ahead=4)
    fetcher.take("A")
    assert set(threads) == set("ABCD") and set(threads.values()) == {threading.current_thread().name}
    fetcher.take("B")
    with pytest.raises(LookupError, match="no cases for C"):
        fetcher.take("C")
    fetcher.take("D")
    assert heard == ["A", "B", "D"]
    fetcher.close()


def test_while_work_runs_ahead_one_thread_parses_at_a_time(setup: tuple[Client, Server, list[str]],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython 3.11's ast constructor is not safe in two threads (gh-106905): pytest parses when a worker's first
    request imports a plugin module while the test's thread imports another."""
    import ast

    inside, most = [0], [0]
    lock = threading.Lock()

    def slow_parse(*args: object, **kwargs: object) -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        with lock:
            inside[0] -= 1

    monkeypatch.setattr(ast, "parse", slow_parse)
    client, _, _ = setup
    fetcher = prefetch.Prefetcher(client, ["A"], _same, _depth(client), lambda k: True, ahead=1)
    threads = [threading.Thread(target=ast.parse, args=("x = 1",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert most[0] == 1
    fetcher.close()
    assert ast.parse is slow_parse  # given back as it was
