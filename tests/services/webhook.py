"""A local webhook receiver standing in for Slack's and Teams' incoming webhooks: a real
HTTP server in a thread that records each POSTed JSON body and answers with the scripted
statuses (the last one repeats)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.services.http_replay import serve_http


@dataclass
class Hook:
    statuses: list[int] = field(default_factory=lambda: [200])
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        return [str(b.get("text")) for b in self.bodies]


@contextmanager
def webhook_receiver(hook: Hook) -> Iterator[str]:
    """Serve ``hook`` on a free loopback port; yields the webhook URL (with a secret-like
    path, as Slack's are)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with hook.lock:
                hook.attempts += 1
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                if status < 300:
                    hook.bodies.append(json.loads(raw))
                    hook.paths.append(self.path)
            body = b"ok" if status < 300 else b"error"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_http(Handler) as base_url:
        yield f"{base_url}/services/T0/B0/s3cr3tT0k3n"
