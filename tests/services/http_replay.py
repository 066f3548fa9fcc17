"""A local HTTP server that replays scripted responses, standing in for public APIs.

Each path has a queue of responses (status, headers, body, delay); the last one repeats.
A path with no queue goes to the script's ``fallback`` (e.g. the demo's recorded APIs),
if any. The server records every request and the most requests it saw in flight at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: str | bytes = "{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0


@dataclass
class Script:
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    fallback: Callable[[str], Reply] | None = None

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            self.requests.append(path)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            queue = self.replies.get(path.split("?", 1)[0])
            if not queue:
                return self.fallback(path) if self.fallback else Reply(404, "not scripted")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1


@contextmanager
def replay_server(script: Script) -> Iterator[str]:
    """Serve ``script`` on a free loopback port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = script.next_reply(self.path)
            try:
                time.sleep(reply.delay)
            finally:
                # Counted out before the answer goes out: a client may send its next request
                # as soon as it has read this one, which could otherwise arrive before this
                # thread gets to decrement, and count one request too many in flight.
                script.done()
            try:
                body = reply.body if isinstance(reply.body, bytes) else reply.body.encode()
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_http(Handler) as base_url:
        yield base_url


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` from a thread on a free loopback port; yields the base URL and
    stops the server after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
