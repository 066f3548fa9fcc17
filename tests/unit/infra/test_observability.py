"""The stack's monitoring, checked without Docker: Prometheus and Grafana services, the
provisioned datasource and dashboard, and alert rules and dashboard queries that name only
metrics our code exports (collected from the code's registries, not listed here)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.observability.metrics import exported_names
from backend.settings import Settings
from tests.unit.infra.test_compose import REPO, effective_compose, example_values, services

PROMETHEUS = REPO / "infra" / "prometheus"
GRAFANA = REPO / "infra" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
# Series Prometheus makes itself; dashboards may show them, alert rules name only ours.
PROMETHEUS_OWN = {"ALERTS", "ALERTS_FOR_STATE"}

# PromQL, enough to find the metric names of an expression: what is left once strings,
# label matchers, ranges, grouping clauses, numbers and function calls are taken out.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_NUMBER = re.compile(r"(?<![A-Za-z_:])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        after = text[match.end() :].lstrip()
        if after.startswith("("):  # a function or an aggregation
            continue
        if match.group(0).lower() not in _KEYWORDS:
            names.add(match.group(0))
    return names


@cache
def exported() -> frozenset[str]:
    return frozenset(exported_names(Settings(lake_root="/nonexistent-lake")))


def rules() -> list[dict[str, Any]]:
    found = []
    for path in sorted((PROMETHEUS / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            found.extend(group["rules"])
    return found


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def queries() -> list[tuple[str, str]]:
    return [
        (f"{name}: {panel['title']}", target["expr"])
        for name, dashboard in dashboards().items()
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


# --- the parser and the collected names themselves ----------------------------------------


def test_the_parser_finds_metric_names_and_nothing_else() -> None:
    expr = (
        'sum by (status) (rate(nova_api_requests_total{status=~"5..", route!="x"}[5m])) '
        "/ clamp_min(sum(rate(nova_api_requests_total[5m])), 1e-9) > 0.05 and on (job) up"
    )
    assert metric_names(expr) == {"nova_api_requests_total", "up"}
    assert metric_names("time() - nova_gold_published_timestamp_seconds > 36 * 3600") == {
        "nova_gold_published_timestamp_seconds"
    }
    assert metric_names("histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))") == {
        "a_bucket"
    }


def test_the_exported_names_come_from_the_code() -> None:
    """Counters (with _total), histograms (with _bucket), the stream's and the pipeline's
    gauges are all found; a name nothing exports is not."""
    assert {"nova_api_requests_total", "nova_api_request_seconds_bucket", "nova_stream_connected",
            "nova_kafka_consumer_lag", "nova_pipeline_run_status", "nova_gold_stock_alerts",
            "nova_pipeline_last_finished_timestamp_seconds"} <= exported()  # fmt: skip
    assert "nova_pipeline_last_success_timestamp" not in exported()


# --- alert rules ------------------------------------------------------------------------------


def test_prometheus_loads_the_rules_and_scrapes_the_api_and_the_stream() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    mounts = services()["prometheus"]["volumes"]
    assert "./infra/prometheus:/etc/prometheus:ro" in mounts
    targets = {
        job["job_name"]: target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    stack = effective_compose()
    api_port = stack["x-nova-env"]["NOVA_API_PORT"]
    stream_port = stack["x-nova-env"]["NOVA_STREAM_METRICS_PORT"]
    assert targets["nova-api"] == f"api:{api_port}"
    assert targets["nova-stream"] == f"stream:{stream_port}"


def test_rules_alert_on_a_stale_gold_table_and_a_failed_run() -> None:
    by_name = {rule["alert"]: rule for rule in rules()}
    assert "nova_gold_table_updated_timestamp_seconds" in metric_names(
        by_name["NovaGoldTableStale"]["expr"]
    )
    assert "nova_gold_published_timestamp_seconds" in metric_names(by_name["NovaGoldStale"]["expr"])
    assert 'status="failed"' in by_name["NovaRunFailed"]["expr"]
    assert "nova_pipeline_run_status" in metric_names(by_name["NovaRunFailed"]["expr"])


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_every_alert_rule_names_metrics_the_code_exports(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names, f"{rule['alert']}: no metric in {rule['expr']!r}"
    unknown = names - exported()
    assert not unknown, f"{rule['alert']}: {sorted(unknown)} are not exported by the code"


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_every_alert_rule_has_a_severity_and_says_what_to_do(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]


# --- Grafana ----------------------------------------------------------------------------------


def provisioned(kind: str) -> dict[str, Any]:
    (path,) = sorted((GRAFANA / "provisioning" / kind).glob("*.yml"))
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_datasource_is_the_stacks_prometheus() -> None:
    (source,) = provisioned("datasources")["datasources"]
    assert source["type"] == "prometheus"
    host, port = source["url"].removeprefix("http://").split(":")
    assert host in services()
    assert any(str(p).endswith(f":{port}") for p in services()[host]["ports"])


def test_the_dashboard_file_is_provisioned_valid_json_on_the_datasource() -> None:
    (provider,) = provisioned("dashboards")["providers"]
    mounted = {
        mount.split(":")[1]: mount.split(":")[0] for mount in services()["grafana"]["volumes"]
    }
    assert mounted[provider["options"]["path"]] == "./infra/grafana/dashboards"
    assert mounted["/etc/grafana/provisioning"] == "./infra/grafana/provisioning"
    (source,) = provisioned("datasources")["datasources"]
    found = dashboards()
    assert "nova-operations.json" in found
    for name, dashboard in found.items():
        assert dashboard["uid"] and dashboard["title"], name
        for panel in panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == source["uid"], (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            assert panel["fieldConfig"]["defaults"].get("unit"), f"{panel['title']}: no unit"
            assert panel.get("description"), f"{panel['title']}: no description"


def test_the_dashboard_shows_what_operations_need() -> None:
    dashboard = dashboards()["nova-operations.json"]
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert [r.split(" (")[0] for r in rows] == [
        "Pipeline health", "API latency and errors", "Alerts per severity", "Consumer lag"
    ]  # fmt: skip
    shown = set().union(*(metric_names(expr) for _, expr in queries()))
    assert {"nova_pipeline_run_status", "nova_api_request_seconds_bucket",
            "nova_gold_stock_alerts", "nova_kafka_consumer_lag"} <= shown  # fmt: skip


@pytest.mark.parametrize("query", queries(), ids=lambda q: q[0])
def test_every_dashboard_query_names_exported_metrics(query: tuple[str, str]) -> None:
    title, expr = query
    unknown = metric_names(expr) - exported() - PROMETHEUS_OWN
    assert not unknown, f"{title}: {sorted(unknown)} are not exported by the code"


# --- the services -------------------------------------------------------------------------------


def test_prometheus_and_grafana_have_healthchecks_on_their_own_endpoints() -> None:
    prometheus = " ".join(services()["prometheus"]["healthcheck"]["test"])
    assert "http://127.0.0.1:9090/-/ready" in prometheus
    grafana = " ".join(services()["grafana"]["healthcheck"]["test"])
    assert "http://127.0.0.1:3000/api/health" in grafana
    assert services()["grafana"]["depends_on"]["prometheus"] == {"condition": "service_healthy"}


def test_grafana_admin_password_has_no_working_default() -> None:
    grafana = services()["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    gate = services()["secrets-check"]
    assert "GRAFANA_ADMIN_PASSWORD" in gate["command"]
    assert gate["environment"]["GRAFANA_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-}"
    assert example_values()["GRAFANA_ADMIN_PASSWORD"].startswith("change-me")
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_the_api_in_the_stack_logs_json_and_sums_its_workers() -> None:
    env = effective_compose()["x-nova-env"]
    assert env["NOVA_LOG_FORMAT"] == "json"
    assert env["NOVA_METRICS_DIR"]
    assert Path(env["NOVA_METRICS_DIR"]).is_absolute()
