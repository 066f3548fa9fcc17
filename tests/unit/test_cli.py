"""`nova user`, `nova apikey` and `nova appdb` on the default SQLite app database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend import cli
from backend.appdb import head_revision, make_engine
from backend.appdb.keys import lookup_key
from backend.appdb.users import get_user
from backend.cli import app
from backend.settings import Settings, get_settings
from tests.services.gold import build_gold

runner = CliRunner()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def nova_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("NOVA_ENV", "test")
    monkeypatch.setenv("NOVA_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("NOVA_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setattr(cli.console, "width", 200)  # tables whole, not cut to 80 columns
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def nova(*args: str, stdin: str | None = None, code: int = 0) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    return result.output


def test_appdb_upgrade(nova_env: Settings) -> None:
    assert f"revision {head_revision()}" in nova("appdb", "upgrade")
    assert f"revision {head_revision()}" in nova("appdb", "upgrade")  # idempotent


def test_user_create_list_disable_enable_set_password(nova_env: Settings) -> None:
    out = nova("user", "create", "--email", "Ana@NovaCorrente.example", "--role", "planner",
               stdin=PASSWORD + "\n")  # fmt: skip
    assert "created ana@novacorrente.example (planner; every depot)" in out
    engine = make_engine(nova_env)
    found = get_user(engine, "ana@novacorrente.example")
    assert found is not None and found[1].startswith("$argon2id$") and PASSWORD not in found[1]
    listed = nova("user", "list")
    assert "ana@novacorrente.example" in listed and "planner" in listed
    # Taken emails, short passwords and unknown roles are refused.
    nova("user", "create", "--email", "ana@novacorrente.example", "--role", "viewer",
         stdin=PASSWORD + "\n", code=1)  # fmt: skip
    assert "at least 12" in nova("user", "create", "--email", "bo@x.example", "--role", "viewer",
                                 stdin="short\n", code=2)  # fmt: skip
    nova(
        "user", "create", "--email", "bo@x.example", "--role", "root", stdin=PASSWORD + "\n", code=2
    )
    assert "disabled" in nova("user", "disable", "--email", "ana@novacorrente.example")
    found = get_user(engine, "ana@novacorrente.example")
    assert found is not None and found[0].disabled_at is not None
    nova("user", "enable", "--email", "ana@novacorrente.example")
    nova(
        "user",
        "set-password",
        "--email",
        "ana@novacorrente.example",
        stdin="another long password\n",
    )
    nova("user", "disable", "--email", "nobody@x.example", code=1)
    engine.dispose()


def test_user_depots_are_checked_against_gold(nova_env: Settings) -> None:
    # No gold yet: a warning, and the user is created.
    out = nova("user", "create", "--email", "a@x.example", "--role", "viewer", "--depots",
               "DEP01", stdin=PASSWORD + "\n")  # fmt: skip
    assert "not checked" in out and "DEP01" in out
    build_gold(nova_env)
    refused = nova("user", "create", "--email", "b@x.example", "--role", "viewer", "--depots",
                   "DEP01,DEP99", stdin=PASSWORD + "\n", code=2)  # fmt: skip
    assert "DEP99" in refused
    ok = nova("user", "create", "--email", "c@x.example", "--role", "viewer", "--depots",
              "DEP02, DEP01", stdin=PASSWORD + "\n")  # fmt: skip
    assert "DEP01, DEP02" in ok and "not checked" not in ok


def test_apikey_create_list_revoke(nova_env: Settings) -> None:
    out = nova("apikey", "create", "--role", "planner", "--name", "erp bridge")
    token = out.strip().splitlines()[-1]
    engine = make_engine(nova_env)
    key = lookup_key(engine, token)
    assert key is not None and key.role == "planner"
    assert key.key_id in nova("apikey", "list") and "erp bridge" in nova("apikey", "list")
    nova("apikey", "revoke", key.key_id)
    assert lookup_key(engine, token) is None
    nova("apikey", "revoke", key.key_id, code=1)
    nova("apikey", "create", "--role", "root", code=2)
    engine.dispose()
