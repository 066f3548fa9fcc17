"""docker-compose.yml, .env.example and infra/, checked without Docker.

The environment variables the code reads are found in the code at test time (Settings'
fields, `env_var()` in dbt, `os.environ`/`getenv` and shell `$VARS` in dags/, backend/, ml/
and infra/, `${VARS}` in the compose file): a new setting that .env.example does not
document fails here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices, AliasPath

from backend.settings import Settings

REPO = Path(__file__).resolve().parents[3]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
SPARK_DEFAULTS = REPO / "infra" / "spark" / "spark-defaults.conf"

# Services that clients on the host reach (a UI, an API or a protocol port).
SERVES_HOST = {
    "postgres",
    "redis",
    "kafka",
    "seaweedfs",
    "mlflow",
    "api",
    "airflow-apiserver",
    "spark-master",
    "spark-thrift",
    "prometheus",
    "grafana",
}
# Services whose image's own default command is what they run.
IMAGE_DEFAULT_COMMAND = {"postgres", "kafka", "grafana"}

ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
DBT_ENV_VAR = re.compile(r"""env_var\(\s*['"](""" + ENV_NAME + r""")['"]""")
PY_ENV_READ = re.compile(
    r"""(?:environ\.get\(|environ\[|getenv\(|environ\.setdefault\()\s*['"]("""
    + ENV_NAME
    + r""")['"]"""
)
# Upper-case shell variables; lower-case ones are the scripts' own locals.
SHELL_VAR = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")
# ${VAR}, ${VAR:-default}, ${VAR:?message} interpolated by compose ($${VAR} is escaped:
# the container's shell reads it).
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{(" + ENV_NAME + r")(?:(:?[-?])([^}]*))?\}")
DBT_OUTPUTS = {"target", "target-airflow", "logs", "dbt_packages"}
DOCUMENTED = re.compile(r"^#?\s*(" + ENV_NAME + r")=", re.MULTILINE)


# --- reading the files ----------------------------------------------------------------------


@cache
def compose_text() -> str:
    return COMPOSE.read_text()


@cache
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(compose_text())
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def env_example() -> str:
    return ENV_EXAMPLE.read_text()


def example_values() -> dict[str, str]:
    """The uncommented assignments of .env.example (what compose interpolates)."""
    values = {}
    for line in env_example().splitlines():
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip()
    return values


def interpolate(text: str, values: dict[str, str]) -> str:
    """What compose makes of ${...} with .env.example as the .env."""

    def value(match: re.Match[str]) -> str:
        name, kind, default = match.group(1), match.group(2), match.group(3)
        found = values.get(name)
        if kind in (":-", "-") and not found:
            return default
        return found or ""

    return COMPOSE_VAR.sub(value, text)


def effective_compose() -> dict[str, Any]:
    loaded = yaml.safe_load(interpolate(compose_text(), example_values()))
    assert isinstance(loaded, dict)
    return loaded


def code_files(*folders: str, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (REPO / folder).rglob("*")
        if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts
    )


# --- the environment variables the code reads ----------------------------------------------


def settings_env_choices() -> dict[str, set[str]]:
    """Each Settings field's environment names: its alias(es), else prefix + field name."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    fields: dict[str, set[str]] = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names = fields.setdefault(field_name, set())
        for choice in choices:
            if choice is None:
                names.add(f"{prefix}{field_name}".upper())
            elif isinstance(choice, AliasPath):
                names.add(str(choice.path[0]).upper())
            else:
                names.add(str(choice).upper())
    return fields


def settings_env_names() -> set[str]:
    return set().union(*settings_env_choices().values())


def dbt_env_names() -> set[str]:
    found: set[str] = set()
    for path in code_files("dbt", suffixes=(".yml", ".yaml", ".sql")):
        if path.relative_to(REPO / "dbt").parts[0] in DBT_OUTPUTS:
            continue
        found |= set(DBT_ENV_VAR.findall(path.read_text()))
    return found


def code_env_names() -> set[str]:
    """os.environ / getenv reads in Python (and Python inside shell scripts), and the
    shell scripts' upper-case variables, in dags/, backend/, ml/ and infra/."""
    found: set[str] = set()
    for path in code_files("dags", "backend", "ml", "infra", suffixes=(".py", ".sh")):
        text = path.read_text()
        found |= set(PY_ENV_READ.findall(text))
        if path.suffix == ".sh":
            found |= set(SHELL_VAR.findall(text))
    return found


def compose_env_names() -> set[str]:
    return {match.group(1) for match in COMPOSE_VAR.finditer(compose_text())}


def documented_names() -> set[str]:
    return {name.upper() for name in DOCUMENTED.findall(env_example())}


# --- the compose file -------------------------------------------------------------------------


def test_compose_file_is_yaml_with_services_and_named_volumes() -> None:
    assert isinstance(services(), dict) and services()
    assert isinstance(compose().get("volumes"), dict) and compose()["volumes"]


@pytest.mark.parametrize("name", sorted(services()))
def test_service_has_an_image_or_a_build_and_a_command(name: str) -> None:
    service = services()[name]
    assert service.get("image") or service.get("build"), f"{name}: no image and no build"
    build = service.get("build")
    if build:
        dockerfile = REPO / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
    if name not in IMAGE_DEFAULT_COMMAND:
        assert service.get("command"), f"{name}: no command (its image has none of ours)"


@pytest.mark.parametrize("name", sorted(services()))
def test_service_has_a_healthcheck_with_a_test_command(name: str) -> None:
    check = services()[name].get("healthcheck")
    assert check, f"{name}: no healthcheck"
    assert not check.get("disable"), f"{name}: healthcheck disabled"
    test = check.get("test")
    assert isinstance(test, list) and len(test) >= 2, f"{name}: healthcheck test {test!r}"
    assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: healthcheck test {test!r}"
    assert all(str(part).strip() for part in test[1:]), f"{name}: empty healthcheck command"


def named_volumes(service: dict[str, Any]) -> list[str]:
    """Sources of a service's volume mounts that are named volumes (not host paths)."""
    names = []
    for mount in service.get("volumes", []):
        source = mount.get("source") if isinstance(mount, dict) else mount.split(":")[0]
        if source and not source.startswith((".", "/", "~", "$")):
            names.append(source)
    return names


@pytest.mark.parametrize("name", sorted(services()))
def test_service_keeps_state_in_a_declared_named_volume(name: str) -> None:
    volumes = named_volumes(services()[name])
    assert volumes, f"{name}: no named volume"
    undeclared = set(volumes) - set(compose()["volumes"])
    assert not undeclared, f"{name}: volumes not declared at the top level: {undeclared}"


def test_every_declared_volume_is_used() -> None:
    used = {volume for service in services().values() for volume in named_volumes(service)}
    assert set(compose()["volumes"]) == used


def test_bind_mounts_name_files_of_the_repository() -> None:
    for name, service in services().items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: mounts missing {source}"


@pytest.mark.parametrize("name", sorted(SERVES_HOST))
def test_service_serving_the_host_publishes_a_port(name: str) -> None:
    assert services()[name].get("ports"), f"{name}: serves the host but publishes no port"


def test_published_host_ports_do_not_collide() -> None:
    seen: dict[str, str] = {}
    for name, service in effective_compose()["services"].items():
        for port in service.get("ports", []):
            parts = str(port).split(":")
            assert len(parts) == 3, f"{name}: {port!r} is not address:host port:container port"
            host = ":".join(parts[:2])
            assert host not in seen, f"{name} and {seen.get(host)} both publish {host}"
            seen[host] = name


def one_shot(name: str) -> bool:
    return str(services()[name].get("restart", "")) == "no"


def test_dependencies_wait_for_health_or_completion() -> None:
    for name, service in services().items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for dependency, spec in depends.items():
            assert dependency in services(), f"{name}: depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if one_shot(dependency) else "service_healthy"
            )
            assert spec.get("condition") == expected, f"{name} -> {dependency}: {spec}"


def test_services_reach_each_other_by_service_name() -> None:
    """Every address of the stack in the app's environment names a service of the file."""
    env = compose()["x-nova-env"]
    for key in (
        "NOVA_ERP_URL",
        "NOVA_REDIS_URL",
        "NOVA_MLFLOW_TRACKING_URI",
        "NOVA_AIRFLOW_DB_URL",
        "AWS_ENDPOINT_URL",
    ):
        host = urlsplit(env[key]).hostname
        assert host in services(), f"{key}: {host} is not a service"
    assert env["NOVA_KAFKA_BOOTSTRAP"].split(":")[0] in services()
    assert env["NOVA_SPARK_HOST"] in services()
    thrift = " ".join(services()[env["NOVA_SPARK_HOST"]]["command"])
    assert f"hive.server2.thrift.port={env['NOVA_SPARK_PORT']}" in thrift


def test_every_setting_reaches_the_stack() -> None:
    """Each Settings field is set or passed through to our services (x-nova-env), under one
    of its names."""
    passed = {name.upper() for name in compose()["x-nova-env"]}
    missing = sorted(min(names) for names in settings_env_choices().values() if not names & passed)
    assert not missing, f"settings not passed to the stack (x-nova-env): {missing}"


def test_our_services_get_the_app_environment() -> None:
    env = compose()["x-nova-env"]
    for name, service in services().items():
        # The dashboard is built from its own image and needs only the API's address.
        if service.get("build") and name not in {"mlflow", "dashboard"}:
            assert env.items() <= service["environment"].items(), name


# --- .env.example -----------------------------------------------------------------------------


def test_env_example_documents_every_variable_the_code_reads() -> None:
    read = settings_env_names() | dbt_env_names() | code_env_names() | compose_env_names()
    read |= {name.upper() for name in compose()["x-nova-env"]}
    missing = {name.upper() for name in read} - documented_names()
    assert not missing, f"not documented in .env.example: {sorted(missing)}"


def test_the_scan_sees_what_the_code_reads() -> None:
    """The derived list holds what is known to be read: the scan itself works."""
    assert {"NOVA_LAKE_ROOT", "NOVA_API_PORT", "NOVA_AIRFLOW_DBT_MANIFEST"} <= settings_env_names()
    assert {"NOVA_RUN_DATE", "NOVA_WAREHOUSE_DIR"} <= dbt_env_names()
    assert {"ERP_DB_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_USER"} <= code_env_names()
    assert {"POSTGRES_PASSWORD", "AWS_SECRET_ACCESS_KEY"} <= compose_env_names()


def test_env_example_assigns_each_variable_once() -> None:
    names = [name.upper() for name in DOCUMENTED.findall(env_example())]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"documented twice: {duplicates}"


def test_env_example_each_setting_has_a_comment() -> None:
    """Every assignment (or run of assignments) has a comment line above it."""
    lines = env_example().splitlines()
    for index, line in enumerate(lines):
        match = DOCUMENTED.match(line)
        if not match:
            continue
        above = index - 1
        while above >= 0 and DOCUMENTED.match(lines[above]):
            above -= 1
        assert above >= 0 and lines[above].startswith("# "), f"{match.group(1)}: no comment"


def test_compose_required_variables_have_values_in_env_example() -> None:
    """Variables compose refuses to start without (${VAR:?...}) are set in .env.example,
    so `cp .env.example .env; docker compose up -d` starts."""
    values = example_values()
    for match in COMPOSE_VAR.finditer(compose_text()):
        if match.group(2) == ":?":
            assert values.get(match.group(1)), f"{match.group(1)} has no value in .env.example"


# --- infra/spark ------------------------------------------------------------------------------


def spark_defaults() -> dict[str, str]:
    conf: dict[str, str] = {}
    for line in SPARK_DEFAULTS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            assert key not in conf, f"spark-defaults.conf sets {key} twice"
            conf[key] = value.strip()
    return conf


def test_spark_defaults_configure_delta_and_the_object_store() -> None:
    conf = spark_defaults()
    packages = conf["spark.jars.packages"].split(",")
    assert any(p.startswith("io.delta:delta-spark_2.13:") for p in packages)
    assert any(p.startswith("org.apache.hadoop:hadoop-aws:") for p in packages)
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"] == (
        "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    )
    endpoint = urlsplit(conf["spark.hadoop.fs.s3a.endpoint"])
    assert endpoint.hostname in services()
    ports = services()[str(endpoint.hostname)]["ports"]
    assert any(str(port).endswith(f":{endpoint.port}") for port in ports)
    master = urlsplit(conf["spark.master"])
    assert master.hostname in services()
    assert "access.key" not in " ".join(conf), "S3 keys belong in the environment"
