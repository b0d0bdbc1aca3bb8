"""A loopback recording relay that forwards every request to the mock byte for byte and keeps what the client sent."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# The relay re-frames the response itself, so these must not be copied from the mock's answer.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class WireRequest:
    """One request exactly as the client put it on the wire (header names lowercased)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def query_params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def body_params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True)


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _RelayServer

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.recorded.append(WireRequest(self.command, split.path, split.query, headers, body))
        status, reason, answer_headers, answer = self._forward(body)
        self.send_response_only(status, reason)
        for name, value in answer_headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port, timeout=30)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = _relay

    def log_message(self, format: str, *args: object) -> None:
        pass  # the recorded list is the log; stderr noise would only clutter pytest output


class _RelayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.recorded: list[WireRequest] = []


class WireRecorder:
    """Point a client's base URL at `.url`; `.requests` then lists what it sent, in order."""

    def __init__(self, upstream: str) -> None:
        self._server = _RelayServer(upstream)
        self._thread = threading.Thread(target=self._server.serve_forever, name="wire-recorder", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def requests(self) -> list[WireRequest]:
        return list(self._server.recorded)

    def clear(self) -> None:
        self._server.recorded.clear()

    def sent(self, method: str, path: str) -> list[WireRequest]:
        return [r for r in self._server.recorded if r.method == method and r.path == path]

    def start(self) -> WireRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
