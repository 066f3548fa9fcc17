"""A real uvicorn server running the API app in a background thread, on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from backend.api.main import UVICORN_WS_OPTIONS, create_app
from backend.settings import Settings
from tests.services.postgres import ServiceUnavailable, free_port


@dataclass
class ApiServer:
    app: FastAPI
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@contextmanager
def api_server(settings: Settings) -> Iterator[ApiServer]:
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **UVICORN_WS_OPTIONS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServiceUnavailable(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    try:
        yield ApiServer(app, port)
    finally:
        server.should_exit = True
        thread.join(15)
