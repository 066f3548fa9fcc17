"""The `nova` command: run the pipeline in-process on the embedded default."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from backend.pipeline.context import RunContext, StepResult
from backend.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(
    help="Nova Corrente lakehouse: spare-parts demand and replenishment.", no_args_is_help=True
)
console = Console()

DateOption = Annotated[str, typer.Option(help="A date as YYYY-MM-DD.")]


@app.callback()
def _startup() -> None:
    # Every command's log lines: JSON or console as NOVA_LOG_FORMAT says (auto: console
    # at a terminal), bound to the run, step and source where there is one.
    from backend.observability.logs import configure_logging

    configure_logging(get_settings())


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


class ProgressObserver:
    """Draws one rich progress line per step; dbt steps tick once per finished node."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.done: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def step_started(self, name: str, total: int | None) -> None:
        self.done[name] = 0
        self.tasks[name] = self.progress.add_task(name, total=total, status="")

    def step_total(self, name: str, total: int) -> None:
        self.totals[name] = total
        self.progress.update(self.tasks[name], total=total)

    def step_advanced(self, name: str, label: str) -> None:
        self.done[name] += 1
        total = self.totals.get(name)
        count = f"{self.done[name]}/{total}" if total else f"{self.done[name]}"
        self.progress.update(self.tasks[name], advance=1, status=f"{count} {label}")

    def step_finished(self, name: str, result: StepResult) -> None:
        task = self.tasks[name]
        mark = {"success": "[green]ok[/]", "skipped": "[yellow]skipped[/]"}.get(
            result.status, "[red]failed[/]"
        )
        self.progress.update(task, total=1, completed=1, status=f"{mark} {result.seconds:.1f}s")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    )


# Exit codes of `nova run` and `nova backfill` (README "Exit codes"; Airflow's tasks and
# cron jobs read them): 0 success, 3 degraded (gold published without a failed or stale
# optional source), 1 failed (nothing new published). 2 is click's usage error.
EXIT_SUCCESS, EXIT_FAILED, EXIT_DEGRADED = 0, 1, 3


def _print_freshness_and_notifications(report: dict[str, Any]) -> None:
    """What `nova run` adds to the report's print: each source's freshness on D and the
    notifications sent."""
    if report.get("freshness"):
        table = Table("source", "newest data", "age (days)", "limit", "status", title="Freshness")
        for source, check in sorted(report["freshness"].items()):
            table.add_row(
                source,
                str(check.get("newest") or "-"),
                "-" if check.get("age_days") is None else str(check["age_days"]),
                "-" if check.get("max_age_days") is None else str(check["max_age_days"]),
                check.get("status", "?"),
            )
        console.print(table)
    sent = report.get("notifications") or {}
    if sent.get("sent") or sent.get("failed"):
        console.print(
            f"notifications: {sent.get('sent', 0)} sent, {sent.get('failed', 0)} not sent"
        )


def _execute(ctx: RunContext) -> None:
    from backend.pipeline import runner

    try:
        with _progress() as progress:
            runner.run(ctx, ProgressObserver(progress))
    except Exception as exc:
        print_report(ctx.report.as_dict())
        _print_freshness_and_notifications(ctx.report.as_dict())
        console.print(f"[red]run failed:[/] {exc}")
        console.print(f"report: {ctx.report_uri}")
        raise typer.Exit(EXIT_FAILED) from None
    print_report(ctx.report.as_dict())
    _print_freshness_and_notifications(ctx.report.as_dict())
    console.print(f"report: {ctx.report_uri}")
    if ctx.report.status == "degraded":
        console.print(
            f"[yellow]run degraded[/] (exit {EXIT_DEGRADED}): gold was published, but the "
            "sources in the errors above failed or are stale; fix them and re-run the same date"
        )
        raise typer.Exit(EXIT_DEGRADED)
    if ctx.report.status != "success":  # the runner always ends in one of the three
        raise typer.Exit(EXIT_FAILED)


def print_report(report: dict[str, Any]) -> None:
    status_colour = {"success": "green", "degraded": "yellow"}.get(report["status"], "red")
    console.print(
        f"\n[bold]Run {report['run_id']}[/] ({report['kind']} {report['start']}..{report['end']}): "
        f"[{status_colour}]{report['status']}[/] in {report['seconds']:.1f}s"
    )
    steps = Table("step", "seconds", "rows", "rows/s", "status", title="Steps")
    for step in report["steps"]:
        steps.add_row(
            step["name"],
            f"{step['seconds']:.2f}",
            f"{step.get('rows', 0):,}",
            f"{step.get('rows_per_second', 0):,.0f}",
            step["status"],
        )
    console.print(steps)
    tables = Table("table", "read", "written", "quarantined", title="Tables")
    for name, stats in sorted(report["tables"].items()):
        tables.add_row(
            name,
            f"{stats['rows_read']:,}",
            f"{stats['rows_written']:,}",
            f"{stats['rows_quarantined']:,}",
        )
    console.print(tables)
    if report.get("layers"):
        console.print(
            "dbt node time by layer: "
            + ", ".join(f"{layer} {secs:.1f}s" for layer, secs in sorted(report["layers"].items()))
        )
    tests = report["dbt_tests"]
    console.print(
        f"dbt tests: {tests['pass']} passed, {tests['warn']} warned, "
        f"{tests['fail']} failed, {tests['error']} errored"
    )
    for note in report.get("notes", []):
        console.print(f"[yellow]note:[/] {note}")
    for error in report["errors"]:
        console.print(f"[red]error:[/] {error}")


@app.command()
def demo(
    items: Annotated[int, typer.Option(min=1, help="Number of items.")] = 2000,
    depots: Annotated[int, typer.Option(min=1, max=12, help="Number of depots.")] = 8,
    towers: Annotated[int, typer.Option(min=1, help="Number of towers.")] = 600,
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of history.")] = 3,
    end_date: DateOption = "2026-10-31",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
    url: Annotated[str | None, typer.Option(help="ERP database URL (default: settings).")] = None,
) -> None:
    """Generate the demo ERP database (SQLite by default, PostgreSQL via NOVA_ERP_URL)."""
    from backend.demo.erp import DemoConfig, NotADemoDatabase, generate_demo

    settings = get_settings()
    target = url or settings.erp_url
    config = DemoConfig(
        items=items,
        depots=depots,
        towers=towers,
        years=years,
        end_date=_parse_date(end_date, "--end-date"),
        seed=seed,
    )
    with _progress() as progress:
        tasks: dict[str, TaskID] = {}

        def on_rows(table: str, rows: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=None, status="")
            progress.update(tasks[table], completed=rows, status=f"{rows:,} rows")

        try:
            counts = generate_demo(target, config, progress=on_rows)
        except NotADemoDatabase as exc:
            progress.stop()
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from None
    summary = Table("table", "rows", title=f"Demo ERP at {target}")
    for table, rows in counts.items():
        summary.add_row(table, f"{rows:,}")
    console.print(summary)
    first = config.end_date - timedelta(days=config.years * 365 - 1)
    console.print(f"history: {first} .. {config.end_date}")


def _sources(value: str | None) -> tuple[str, ...]:
    from backend.ingest.base import registered_sources

    known = registered_sources()
    if not value:
        return tuple(known)
    names = tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise typer.BadParameter(
            f"unknown source(s) {unknown}; known: {known}", param_hint="--sources"
        )
    return names


SourcesOption = Annotated[
    str | None, typer.Option(help="Comma-separated sources (default: every registered one).")
]


@app.command()
def run(
    date_: Annotated[str, typer.Option("--date", help="Run date D (YYYY-MM-DD).")],
    sources: SourcesOption = None,
) -> None:
    """Run the daily pipeline for one date: extract -> validate -> silver -> gold ->
    forecast -> publish.

    Exit codes: 0 success; 3 degraded (gold published, but an outside source failed or is
    stale: see the report's errors); 1 failed (nothing new published); 2 bad usage.
    """
    day = _parse_date(date_, "--date")
    ctx = RunContext(
        start=day, end=day, settings=get_settings(), kind="run", sources=_sources(sources)
    )
    _execute(ctx)


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last date (YYYY-MM-DD), inclusive.")],
    sources: SourcesOption = None,
) -> None:
    """Load a date range as one batch: one extract, one dbt build.

    Exit codes: 0 success; 3 degraded (gold published, but an outside source failed or is
    stale: see the report's errors); 1 failed (nothing new published); 2 bad usage.
    """
    first, last = _parse_date(start, "--start"), _parse_date(end, "--end")
    if last < first:
        raise typer.BadParameter(f"--end {last} is before --start {first}", param_hint="--end")
    ctx = RunContext(
        start=first, end=last, settings=get_settings(), kind="backfill", sources=_sources(sources)
    )
    _execute(ctx)


@app.command()
def gold() -> None:
    """List the gold Delta tables, read with both deltalake and DuckDB."""
    from backend.lake.gold import gold_summary

    rows = gold_summary(get_settings())
    if not rows:
        console.print("no gold tables yet: run `nova backfill` or `nova run` first")
        raise typer.Exit(1)
    table = Table("gold table", "rows (deltalake)", "rows (DuckDB)", "columns", "version")
    for row in rows:
        table.add_row(
            row["table"],
            f"{row['rows_deltalake']:,}",
            f"{row['rows_duckdb']:,}",
            str(row["columns"]),
            str(row["version"]),
        )
    console.print(table)


@app.command("spark-sources")
def spark_sources() -> None:
    """Stage the lake's sources into the local Spark session's catalog, so that
    `dbt build --target spark` can read them (the pipeline does it before each Spark build)."""
    from backend.lake.spark import local_session, stage_sources

    settings = get_settings()
    with console.status("starting the local Spark session and staging bronze"):
        outcomes = stage_sources(local_session(settings), settings)
    table = Table("Spark table", "outcome")
    for relation, outcome in outcomes.items():
        table.add_row(relation, outcome)
    console.print(table)


@app.command()
def report(
    path: Annotated[
        Path | None, typer.Argument(help="A report JSON (default: the latest).")
    ] = None,
) -> None:
    """Print a saved run report (the latest one by default)."""
    import json

    from backend.lake.gold import latest_report

    payload = json.loads(path.read_text()) if path else latest_report(get_settings())
    if payload is None:
        console.print("no run report yet")
        raise typer.Exit(1)
    print_report(payload)


@app.command()
def forecast(
    input_: Annotated[
        Path, typer.Option("--input", help="CSV or Parquet long table: unique_id, ds, y.")
    ],
    output: Annotated[Path, typer.Option(help="Where to write the forecasts (.csv or .parquet).")],
    freq: Annotated[str, typer.Option(help="Frequency of the series: D, W or M.")] = "D",
    horizon: Annotated[int, typer.Option(min=1, help="Periods to forecast.")] = 90,
    windows: Annotated[int, typer.Option(min=1, help="Backtest windows.")] = 3,
    expensive: Annotated[
        bool, typer.Option(help="Also backtest ETS, ARIMA, Theta and Prophet (slow).")
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
) -> None:
    """Backtest every candidate on a long table, learn the ensemble, forecast, and print
    the backtest (model x demand class x metric)."""
    from backend.forecast_cli import run_forecast_command

    if freq not in ("D", "W", "M"):
        raise typer.BadParameter(f"{freq!r}: use D, W or M", param_hint="--freq")
    if output.suffix not in (".csv", ".parquet"):
        raise typer.BadParameter("write .csv or .parquet", param_hint="--output")
    try:
        run_forecast_command(
            console,
            input_=input_,
            output=output,
            freq=freq,
            horizon=horizon,
            windows=windows,
            expensive=expensive,
            jobs=jobs,
        )
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]forecast failed:[/] {exc}")
        raise typer.Exit(1) from None


@app.command()
def train(
    date_: Annotated[
        str | None, typer.Option("--date", help="Train on demand up to this date (default: all).")
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Also write the backtest and evaluation tables to this JSON file."
        ),
    ] = None,
) -> None:
    """Backtest the candidates on gold demand, log to MLflow, register the ensemble as
    `demand-forecaster` (alias challenger) and promote it to champion if it wins."""
    from backend.forecast_cli import run_train_command

    day = _parse_date(date_, "--date") if date_ else None
    try:
        run_train_command(console, get_settings(), day, json_file)
    except FileNotFoundError as exc:
        console.print(f"[red]train failed:[/] {exc}")
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: NOVA_API_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: NOVA_API_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Serve the API (OpenAPI at /docs) and the /ws/alerts WebSocket with uvicorn."""
    import os
    import shutil

    import uvicorn

    from backend.api.main import UVICORN_WS_OPTIONS
    from backend.observability.logs import uvicorn_log_config
    from backend.observability.metrics import prepare_multiprocess_dir

    settings = get_settings()
    metrics_dir = None
    if workers > 1 or reload:
        # Worker processes: their counters go to files in one directory that /metrics sums
        # (prometheus_client reads this variable when a worker first imports it).
        metrics_dir = prepare_multiprocess_dir(settings.metrics_dir)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    try:
        uvicorn.run(
            "backend.api.main:create_app",
            factory=True,
            host=host or settings.api_host,
            port=settings.api_port if port is None else port,
            workers=workers,
            reload=reload,
            access_log=access_log,
            log_level=settings.log_level.lower(),
            log_config=uvicorn_log_config(settings),
            **UVICORN_WS_OPTIONS,
        )
    finally:
        if metrics_dir is not None and settings.metrics_dir is None:
            shutil.rmtree(metrics_dir, ignore_errors=True)  # our own temporary directory


def _appdb() -> Engine:
    """The app database at the latest schema (every command using it upgrades first)."""
    from backend.appdb import upgrade

    return upgrade(get_settings())


def _stamp(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


appdb_app = typer.Typer(
    help="The app database (users, sessions, API keys): NOVA_APP_DB_URL.", no_args_is_help=True
)
app.add_typer(appdb_app, name="appdb")


@appdb_app.command("upgrade")
def appdb_upgrade() -> None:
    """Migrate the app database to the latest schema and import the old keys file."""
    from backend.appdb import current_revision

    engine = _appdb()
    console.print(f"app database at revision {current_revision(engine)}")
    engine.dispose()


apikey_app = typer.Typer(
    help="API keys for services (stored hashed in the app database).", no_args_is_help=True
)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    role: Annotated[
        str, typer.Option(help="viewer (read data), planner (also act) or admin (also manage).")
    ],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "",
) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from backend.appdb.keys import ROLES, create_key

    if role not in ROLES:
        raise typer.BadParameter(f"{role!r} is not one of {list(ROLES)}", param_hint="--role")
    record, token = create_key(_appdb(), role=role, name=name)  # type: ignore[arg-type]
    console.print(f"key id {record.key_id} ({record.role}) stored hashed in the app database")
    typer.echo(token)


@apikey_app.command("list")
def apikey_list() -> None:
    """List keys: id, role, name, created, revoked."""
    from backend.appdb.keys import list_keys

    table = Table("key id", "role", "name", "created", "revoked")
    for key in list_keys(_appdb()):
        table.add_row(
            key.key_id, key.role, key.name, _stamp(key.created_at), _stamp(key.revoked_at)
        )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key id to revoke.")]) -> None:
    """Revoke a key (the API stops accepting it within seconds, and closes its sockets)."""
    from backend.appdb.keys import revoke_key

    if not revoke_key(_appdb(), key_id):
        console.print(f"no live key {key_id!r}")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")


user_app = typer.Typer(help="People who sign in to the workbench.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _read_password(min_length: int) -> str:
    """From a hidden prompt with confirmation, or the first line of stdin when piped."""
    import sys

    from backend.appdb.passwords import PasswordTooShort, check_strength

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_strength(password, min_length)
    except PasswordTooShort as exc:
        raise typer.BadParameter(str(exc), param_hint="password") from None
    return password


def _check_depots(depots: list[str]) -> None:
    """Depot ids must exist in gold's dim_depots; without gold, only a warning."""
    from backend.lake.reader import GoldReader

    reader = GoldReader(get_settings())
    try:
        if not reader.exists("dim_depots"):
            raise FileNotFoundError("dim_depots")
        rows = reader.rows("select depot_id from delta_scan($t_dim_depots)", tables=["dim_depots"])
    except Exception:
        console.print("[yellow]warning:[/] gold has no dim_depots yet; depot ids not checked")
        return
    unknown = sorted(set(depots) - {str(row["depot_id"]) for row in rows})
    if unknown:
        raise typer.BadParameter(f"unknown depots {unknown}", param_hint="--depots")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The person's email (their sign-in name).")],
    role: Annotated[str, typer.Option(help="viewer, planner or admin.")],
    depots: Annotated[
        str | None,
        typer.Option(help="Comma-separated depot ids the user may see (default: every depot)."),
    ] = None,
) -> None:
    """Create an account; the password comes from a hidden prompt, or stdin when piped."""
    from backend.appdb.users import ROLES, UserExists, create_user

    if role not in ROLES:
        raise typer.BadParameter(f"{role!r} is not one of {list(ROLES)}", param_hint="--role")
    scope = sorted({d.strip() for d in depots.split(",") if d.strip()}) if depots else None
    if depots is not None and not scope:
        raise typer.BadParameter("no depot ids given", param_hint="--depots")
    if scope:
        _check_depots(scope)
    password = _read_password(get_settings().password_min_length)
    try:
        user = create_user(_appdb(), email=email, password=password, role=role, depots=scope)  # type: ignore[arg-type]
    except (UserExists, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    where = ", ".join(user.depots) if user.depots else "every depot"
    console.print(f"created {user.email} ({user.role}; {where})")


@user_app.command("list")
def user_list() -> None:
    """List accounts: email, role, depots, created, disabled."""
    from backend.appdb.users import list_users

    table = Table("email", "role", "depots", "created", "disabled")
    for user in list_users(_appdb()):
        table.add_row(user.email, user.role, ",".join(user.depots or ()) or "*",
                      _stamp(user.created_at), _stamp(user.disabled_at))  # fmt: skip
    console.print(table)


def _set_disabled(email: str, disabled: bool, done: str) -> None:
    from backend.appdb.users import set_disabled

    if not set_disabled(_appdb(), email, disabled):
        console.print(f"no user {email!r}")
        raise typer.Exit(1)
    console.print(done)


@user_app.command("disable")
def user_disable(email: Annotated[str, typer.Option(help="The account's email.")]) -> None:
    """Disable an account and revoke its sessions (its sockets close within seconds)."""
    _set_disabled(email, True, f"disabled {email}; their sessions are revoked")


@user_app.command("enable")
def user_enable(email: Annotated[str, typer.Option(help="The account's email.")]) -> None:
    """Enable a disabled account (they sign in again)."""
    _set_disabled(email, False, f"enabled {email}")


@user_app.command("set-password")
def user_set_password(email: Annotated[str, typer.Option(help="The account's email.")]) -> None:
    """Set a new password (prompt or stdin); the account's sessions are revoked."""
    from backend.appdb.users import set_password

    password = _read_password(get_settings().password_min_length)
    if not set_password(_appdb(), email, password):
        console.print(f"no user {email!r}")
        raise typer.Exit(1)
    console.print(f"password of {email} changed; their sessions are revoked")


@app.command()
def stream() -> None:
    """Keep item x depot positions from inventory-events; alert on reorder-point crossings."""
    import asyncio
    import signal

    from prometheus_client import start_http_server

    from backend.events.stream import StreamProcessor

    settings = get_settings()
    if not settings.kafka_bootstrap:
        console.print("[red]nova stream needs Kafka:[/] set NOVA_KAFKA_BOOTSTRAP")
        raise typer.Exit(1)
    if settings.stream_metrics_port:
        # /metrics: rejected events by reason, dead letters, alerts, connected, lag per
        # partition.
        start_http_server(settings.stream_metrics_port)

    def announce(alert: dict[str, Any]) -> None:
        console.print(f"[yellow]{alert['severity']}[/] {alert['message']} ({alert['alert_id']})")

    processor = StreamProcessor(settings, on_alert=announce)
    console.print(
        f"consuming {settings.inventory_topic} -> {settings.alerts_topic} "
        f"(rejected -> {settings.stream_dead_letter_topic}); state in "
        f"{settings.stream_state_path} (Ctrl-C stops)"
    )

    async def main() -> None:
        stop = asyncio.Event()
        # SIGTERM (docker stop) ends the current batch cleanly, like Ctrl-C.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await processor.run(stop)

    try:
        asyncio.run(main())
    finally:
        processor.close()


@app.command()
def replay(
    start: Annotated[str, typer.Option(help="First movement date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last movement date (YYYY-MM-DD), inclusive.")],
    rate: Annotated[float, typer.Option(min=0, help="Movements per second; 0: no limit.")] = 50,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many movements.")] = None,
) -> None:
    """Demo producer: replay the ERP's stock movements to inventory-events."""
    import asyncio

    from backend.events.replay import read_movements
    from backend.events.replay import replay as send_movements

    settings = get_settings()
    first, last = _parse_date(start, "--start"), _parse_date(end, "--end")
    if not settings.kafka_bootstrap:
        console.print("[red]replay needs Kafka:[/] set NOVA_KAFKA_BOOTSTRAP")
        raise typer.Exit(1)
    movements = read_movements(settings.erp_url, first, last, limit)
    sent = asyncio.run(send_movements(settings, movements, rate=rate or None))
    console.print(f"sent {sent:,} movements to {settings.inventory_topic}")


if __name__ == "__main__":
    app()
