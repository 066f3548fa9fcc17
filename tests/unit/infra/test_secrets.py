"""The stack's secrets and Kafka authentication, checked without Docker: the secrets-check
gate runs here with /bin/sh on the environment compose would give it."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from backend.settings import Settings
from tests.unit.infra.test_compose import (
    COMPOSE_VAR,
    ENV_EXAMPLE,
    REPO,
    effective_compose,
    example_values,
    services,
)

pytestmark = pytest.mark.reliability
GATE = "secrets-check"
SCRIPT = REPO / "infra" / "secrets" / "check-secrets.sh"


def gate() -> dict[str, Any]:
    return services()[GATE]


def checked_names() -> list[str]:
    command = [str(part) for part in gate()["command"]]
    assert command[:2] == ["sh", "/opt/nova-secrets/check-secrets.sh"]
    return command[4:]


def run_check(env: dict[str, str], tmp_path: Path, example: Path = ENV_EXAMPLE
              ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    verdict = tmp_path / "passed"
    return subprocess.run(
        ["sh", str(SCRIPT), str(example), str(verdict), *checked_names()],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def strong_env() -> dict[str, str]:
    env = {name: secrets.token_urlsafe(24) for name in checked_names()}
    env["AIRFLOW_FERNET_KEY"] = Fernet.generate_key().decode()
    return env


def test_every_service_waits_for_the_secrets_check() -> None:
    assert str(gate()["restart"]) == "no"
    for name, service in services().items():
        if name == GATE:
            continue
        depends = service.get("depends_on", {})
        assert depends.get(GATE) == {"condition": "service_completed_successfully"}, name


def test_the_check_covers_every_example_secret() -> None:
    """Every value of .env.example that is a placeholder, and the Fernet key, is checked,
    and reaches the check's environment under its own name."""
    placeholders = {k for k, v in example_values().items() if v.startswith("change-me")}
    names = set(checked_names())
    assert placeholders | {"AIRFLOW_FERNET_KEY"} <= names
    for name in names:
        match = COMPOSE_VAR.fullmatch(str(gate()["environment"][name]))
        assert match and match.group(1) == name, name


def test_the_stack_refuses_the_example_secrets(tmp_path: Path) -> None:
    env = {k: str(v) for k, v in effective_compose()["services"][GATE]["environment"].items()}
    result = run_check(env, tmp_path)
    assert result.returncode != 0
    refused = {line.split()[1] for line in result.stderr.splitlines() if line.count(" ") > 1}
    assert set(checked_names()) <= refused, result.stderr
    assert not (tmp_path / "passed").exists()


def test_strong_secrets_pass(tmp_path: Path) -> None:
    result = run_check(strong_env(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        tmp_path / "passed"
    ).read_text().strip() == f"secrets-check: {len(checked_names())} secrets pass"


@pytest.mark.parametrize(
    "fernet",
    [
        pytest.param("", id="empty"),
        pytest.param("a-long-string-that-is-not-a-key", id="not-base64"),
        pytest.param(base64.urlsafe_b64encode(os.urandom(31)).decode(), id="31-bytes"),
        pytest.param(base64.urlsafe_b64encode(os.urandom(48)).decode(), id="48-bytes"),
    ],
)
def test_an_empty_or_malformed_fernet_key_is_refused(tmp_path: Path, fernet: str) -> None:
    result = run_check({**strong_env(), "AIRFLOW_FERNET_KEY": fernet}, tmp_path)
    assert result.returncode != 0
    assert "AIRFLOW_FERNET_KEY" in result.stderr
    assert not (tmp_path / "passed").exists()


def test_short_secrets_and_copies_of_the_example_are_refused(tmp_path: Path) -> None:
    env = strong_env()
    example = tmp_path / "env.example"
    example.write_text(f"REDIS_PASSWORD={env['REDIS_PASSWORD']}\n")
    result = run_check({**env, "POSTGRES_PASSWORD": "short"}, tmp_path, example)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD is shorter than 12 characters" in result.stderr
    assert "REDIS_PASSWORD equals its value in .env.example" in result.stderr


def test_kafka_requires_sasl_of_every_client() -> None:
    stack = effective_compose()
    kafka = stack["services"]["kafka"]["environment"]
    protocols = dict(p.split(":") for p in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    clients = {n: p for n, p in protocols.items() if n != kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]}
    assert clients and set(clients.values()) == {"SASL_PLAINTEXT"}
    assert kafka["KAFKA_SASL_ENABLED_MECHANISMS"] == "PLAIN"
    # Our services log in with a user that both client listeners know, with its password.
    app = stack["x-nova-env"]
    user, password = app["NOVA_KAFKA_SASL_USERNAME"], app["NOVA_KAFKA_SASL_PASSWORD"]
    for listener in clients:
        jaas = kafka[f"KAFKA_LISTENER_NAME_{listener}_PLAIN_SASL_JAAS_CONFIG"]
        assert f'user_{user}="{password}"' in jaas
    settings = Settings(**{k.removeprefix("NOVA_").lower(): v for k, v in app.items()
                           if k.startswith("NOVA_KAFKA_SASL_") and v is not None})  # fmt: skip
    assert settings.kafka_security["security_protocol"] == "SASL_PLAINTEXT"
    # The broker's own checks log in too.
    for service in ("kafka", "kafka-init"):
        check = " ".join(stack["services"][service]["healthcheck"]["test"])
        assert "--command-config /tmp/client.properties" in check, service


def test_the_stream_is_a_service_of_the_stack() -> None:
    stack = effective_compose()
    stream = stack["services"]["stream"]
    assert stream["command"] == ["nova", "stream"]
    port = stack["x-nova-env"]["NOVA_STREAM_METRICS_PORT"]
    assert f"127.0.0.1:{port}/metrics" in " ".join(stream["healthcheck"]["test"])
    assert "nova_stream_connected 1.0" in " ".join(stream["healthcheck"]["test"])
    assert stream["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    init = stack["services"]["kafka-init"]["environment"]
    assert init["DEAD_LETTER_TOPIC"] == Settings().stream_dead_letter_topic
    assert "$${DEAD_LETTER_TOPIC}" in " ".join(services()["kafka-init"]["command"])


@pytest.mark.reliability
def test_mlflow_in_the_stack_requires_a_user() -> None:
    """The tracking server runs MLflow's basic-auth app, nobody has a permission by default,
    its admin password has no default and is checked by the gate, and our clients log in."""
    import configparser

    import yaml

    from backend.settings import REPO_ROOT

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    mlflow = compose["services"]["mlflow"]
    assert mlflow["command"][-2:] == ["--app-name", "basic-auth"]
    env = mlflow["environment"]
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"].startswith("${MLFLOW_ADMIN_PASSWORD:?")
    ini = configparser.ConfigParser()
    ini.read(REPO_ROOT / "infra" / "mlflow" / "basic_auth.ini")
    assert ini["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    assert "admin_password" not in ini["mlflow"]  # the secret comes from the environment only
    assert "MLFLOW_ADMIN_PASSWORD" in compose["services"]["secrets-check"]["command"]
    nova_env = compose["x-nova-env"]
    assert nova_env["MLFLOW_TRACKING_PASSWORD"].startswith("${MLFLOW_ADMIN_PASSWORD:?")
