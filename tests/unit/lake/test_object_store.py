"""How the lake's S3 settings reach delta-rs, DuckDB and pyarrow (no server needed: the
S3 round trips are in tests/integration/s3/)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.fs as pafs
import pytest
from pydantic import SecretStr

from backend.lake import delta
from backend.lake.dbt_plugin import Plugin
from backend.lake.duck import configure_lake, connect, s3_secret
from backend.settings import Settings

AWS = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "secret-key",
    "AWS_REGION": "sa-east-1",
    "AWS_ALLOW_HTTP": "true",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NOVA_LAKE_ROOT", "s3://bucket/nova/")


def test_the_standard_aws_variables_become_delta_rs_options(aws_env: None) -> None:
    settings = Settings()
    assert settings.lake_uri == "s3://bucket/nova"
    assert settings.lake_storage_options == {
        **AWS,
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
    }
    assert delta.storage_options(settings) == settings.lake_storage_options
    # The secret stays out of reprs and logs.
    assert "secret-key" not in repr(settings)


def test_a_local_lake_gets_no_options_and_no_aws_in_dbt_env(aws_env: None, tmp_path: Path) -> None:
    settings = Settings(lake_root=str(tmp_path))
    assert settings.lake_storage_options is None
    assert s3_secret(settings) is None
    assert not any(name.startswith("AWS_") for name in settings.dbt_env)
    assert settings.dbt_credentials_env == {}


def test_dbt_gets_the_aws_settings_of_an_s3_lake(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        lake_root="s3://bucket/nova",
        aws_endpoint_url="https://s3.example:8443",
        aws_access_key_id=SecretStr("k"),
        aws_secret_access_key=SecretStr("s"),
    )
    env = settings.dbt_env
    assert env["NOVA_LAKE_ROOT"] == "s3://bucket/nova"
    assert env["AWS_ENDPOINT_URL"] == "https://s3.example:8443"
    assert env["AWS_ALLOW_HTTP"] == "false"
    # The keys travel apart: dbt_env also goes into Airflow's serialized DAGs.
    assert "AWS_SECRET_ACCESS_KEY" not in env and "AWS_ACCESS_KEY_ID" not in env
    assert settings.dbt_credentials_env == {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    env = {**env, **settings.dbt_credentials_env}
    # Inside dbt, the gold plugin reads them back and reaches the same store.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    plugin = Plugin(name="gold", plugin_config={"lake_root": env["NOVA_LAKE_ROOT"]})
    assert plugin.storage_options == settings.lake_storage_options
    db = duckdb.connect()
    try:
        plugin.configure_connection(db)
        ((_, scope, text),) = _s3_secrets(db)
    finally:
        db.close()
    assert scope == ["s3://bucket/nova/"] and "endpoint=s3.example:8443" in text


def test_an_endpoint_without_scheme_is_refused() -> None:
    settings = Settings(lake_root="s3://bucket/nova", aws_endpoint_url="127.0.0.1:9000")
    with pytest.raises(ValueError, match="AWS_ENDPOINT_URL"):
        _ = settings.aws_endpoint


def _s3_secrets(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, list[str], str]]:
    sql = "select name, scope, secret_string from duckdb_secrets() where type = 's3'"
    return [(str(n), list(s), str(t)) for n, s, t in conn.execute(sql).fetchall()]


def test_duckdb_gets_a_secret_scoped_to_the_lake(aws_env: None) -> None:
    settings = Settings()
    db = duckdb.connect()
    try:
        configure_lake(db, settings)
        ((name, scope, text),) = _s3_secrets(db)
    finally:
        db.close()
    assert name == s3_secret(settings)[0]  # type: ignore[index]
    assert scope == ["s3://bucket/nova/"]
    for part in ("endpoint=127.0.0.1:9000", "use_ssl=false", "url_style=path",
                 "region=sa-east-1", "key_id=key-id"):  # fmt: skip
        assert part in text
    assert "secret-key" not in text  # DuckDB redacts it


def test_shared_connections_hold_one_secret_per_lake() -> None:
    first = Settings(lake_root="s3://bucket/one", aws_endpoint_url="http://127.0.0.1:1")
    second = first.model_copy(update={"lake_root": "s3://bucket/two"})
    moved = first.model_copy(update={"aws_endpoint_url": "http://127.0.0.1:2"})
    for settings in (first, second, first, moved):
        cursor = connect(settings=settings)
        cursor.close()
    cursor = connect(settings=moved)
    try:
        secrets = {scope[0]: text for _, scope, text in _s3_secrets(cursor)}
    finally:
        cursor.close()
    assert "s3://bucket/two/" in secrets
    # Changed settings for a lake replace its secret rather than adding a rival one.
    assert len(secrets) == 2 and "endpoint=127.0.0.1:2" in secrets["s3://bucket/one/"]


def test_https_endpoints_use_ssl_and_aws_itself_keeps_vhost_urls() -> None:
    custom = Settings(lake_root="s3://b/p", aws_endpoint_url="https://minio.internal:9000")
    _, sql, params = s3_secret(custom)  # type: ignore[misc]
    assert params["use_ssl"] is True and params["endpoint"] == "minio.internal:9000"
    assert "URL_STYLE 'path'" in sql
    _, sql, params = s3_secret(Settings(lake_root="s3://b/p"))  # type: ignore[misc]
    assert "endpoint" not in params and "URL_STYLE" not in sql


def test_s3_uris_get_an_s3_filesystem_and_local_paths_a_local_one(
    aws_env: None, tmp_path: Path
) -> None:
    fs, path = delta.filesystem("s3://bucket/nova/gold/_version.json", Settings())
    assert isinstance(fs, pafs.S3FileSystem)
    assert path == "bucket/nova/gold/_version.json"
    assert fs.region == "sa-east-1"
    local, local_path = delta.filesystem(str(tmp_path), Settings(lake_root=str(tmp_path)))
    assert delta.is_local(local) and local_path == str(tmp_path)


def test_json_documents_are_written_whole_and_read_back(tmp_path: Path) -> None:
    settings = Settings(lake_root=str(tmp_path))
    uri = delta.table_uri("gold", "_version.json", settings=settings)
    delta.write_json(uri, {"version": "v1"}, settings)
    delta.write_json(uri, {"version": "v2"}, settings)
    assert delta.read_json(uri, settings) == {"version": "v2"}
    assert [p.name for p in (tmp_path / "gold").iterdir()] == ["_version.json"]  # no .tmp left
    with pytest.raises(FileNotFoundError):
        delta.read_json(delta.table_uri("gold", "missing.json", settings=settings), settings)
