"""A throwaway PostgreSQL server: ``initdb`` + ``pg_ctl`` in a temp dir on a free port.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
(present wherever the server package is installed).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServiceUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    for candidate in ("pg_ctl", "initdb"):
        found = shutil.which(candidate)
        if found:
            path = Path(found).resolve().parent
            if (path / "initdb").exists() and (path / "pg_ctl").exists():
                return path
    for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(path, "initdb").exists():
            return Path(path)
    raise ServiceUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
        "`postgresql` (apt-get install postgresql), or set NOVA_TEST_PG_URL to a server"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh server; stop it and delete its files after."""
    bindir = _bindir()
    workdir = Path(tempfile.mkdtemp(prefix="nova-pg-"))
    data, port = workdir / "data", free_port()
    prefix: list[str] = []
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    env = {**os.environ, "LC_ALL": "C.UTF-8"}

    def call(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise ServiceUnavailable(f"{args[0]} failed: {done.stderr.strip() or done.stdout}")

    try:
        call(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8")
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        call(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(workdir / "log"),
            "start",
        )
        try:
            yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        finally:
            call(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
