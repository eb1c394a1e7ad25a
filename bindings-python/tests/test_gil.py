"""Blocking calls release the GIL: an API served by a Python thread of the same process answers
them. If a call held the GIL while waiting, that thread could never answer and the call would
end in ``TimeoutError`` instead."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ctt_onboard as ctt
import pytest


class _Api(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        body = json.dumps({"username": "py", "type": "RESELLER", "resellerId": 7}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def python_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_blocking_call_lets_python_threads_run(python_api: str) -> None:
    with ctt.Client(
        base_url=python_api, reseller_token="t", timeout=10.0, retry=ctt.RetryPolicy.none()
    ) as client:
        user = client.authenticated_user()
    assert user.reseller_id == 7
    assert user.username == "py"
