"""infra/postgres/initdb against a real PostgreSQL: the script the stack's postgres image
runs on its first start creates the erp, airflow, mlflow and app roles and databases."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.services.postgres import postgres_server

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[3] / "infra" / "postgres" / "initdb"
DATABASES = ("erp", "airflow", "mlflow", "app")
# Quotes and a semicolon: the password reaches SQL as a literal, never as SQL text.
PASSWORDS = {"erp": "erp-pw", "airflow": "it's\"; drop role erp; --", "mlflow": "ml.flow_1",
             "app": "app$pw'x"}  # fmt: skip


def psql_dir() -> str:
    found = shutil.which("psql") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None
    )
    if found is None:
        pytest.fail("psql not found: install the Debian package postgresql-client")
    return str(Path(found).parent)


@pytest.fixture(scope="module")
def server() -> Iterator[sa.URL]:
    # Its own server: the script creates cluster-wide roles.
    with postgres_server() as url:
        yield sa.make_url(url)


def run_init(server: sa.URL, passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{psql_dir()}:{os.environ['PATH']}",
        "PGHOST": str(server.host),
        "PGPORT": str(server.port),
        "POSTGRES_USER": str(server.username),
        **{f"{name.upper()}_DB_PASSWORD": value for name, value in passwords.items()},
    }
    script = SCRIPT / "10-nova-databases.sh"
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)


def test_creates_each_database_owned_by_its_role_and_can_run_again(server: sa.URL) -> None:
    for _ in range(2):  # the second run finds everything in place and changes nothing
        done = run_init(server, PASSWORDS)
        assert done.returncode == 0, done.stderr
    engine = sa.create_engine(server)
    with engine.connect() as conn:
        owners = dict(
            conn.execute(
                sa.text(
                    "select d.datname, r.rolname from pg_database d "
                    "join pg_roles r on r.oid = d.datdba where d.datname = any(:names)"
                ),
                {"names": list(DATABASES)},
            ).all()
        )
        roles = dict(
            conn.execute(
                sa.text(
                    "select rolname, rolcanlogin and rolpassword is not null "
                    "from pg_authid where rolname = any(:names)"
                ),
                {"names": list(DATABASES)},
            ).all()
        )
    engine.dispose()
    assert owners == {name: name for name in DATABASES}
    assert roles == dict.fromkeys(DATABASES, True)


def test_each_role_reaches_its_own_database(server: sa.URL) -> None:
    assert run_init(server, PASSWORDS).returncode == 0
    for name in DATABASES:
        engine = sa.create_engine(server.set(username=name, database=name))
        with engine.connect() as conn:
            conn.execute(sa.text("create table if not exists probe (id int)"))
            conn.commit()
            assert conn.execute(sa.text("select current_user")).scalar() == name
        engine.dispose()


def test_refuses_to_start_without_a_password(server: sa.URL) -> None:
    done = run_init(server, {**PASSWORDS, "mlflow": ""})
    assert done.returncode != 0
    assert "no password for the mlflow role" in done.stderr
