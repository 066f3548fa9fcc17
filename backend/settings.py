"""The one place that maps the environment to paths, engines and service URLs.

Every setting is read from an environment variable with the prefix ``NOVA_`` (or a
``.env`` file). Modules call :func:`get_settings`; nothing else reads ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # validate_by_name: the AWS_* settings below keep their standard names in the
    # environment (an alias) and their field names in code and tests.
    model_config = SettingsConfigDict(
        env_prefix="NOVA_", env_file=".env", extra="ignore", validate_by_name=True
    )

    env: Literal["dev", "test", "prod"] = "dev"
    lake_root: str = Field(
        default=".lake",
        description="Root of the Delta lake: a local directory or s3://bucket/prefix.",
    )
    warehouse_dir: Path = Field(
        default=Path(".warehouse"),
        description="Local directory of the DuckDB warehouse file (dbt's silver tables, gold views).",
    )
    erp_url: str = Field(
        default="sqlite:///.demo/erp.sqlite",
        description="SQLAlchemy URL of the ERP database (the demo ERP by default).",
    )
    erp_lookback_minutes: int = Field(
        default=60,
        ge=0,
        description=(
            "Each ERP read reaches this far below the watermark, to catch rows committed "
            "late with an older updated_at; rows already in bronze are not loaded twice."
        ),
    )
    erp_connect_timeout: int = Field(
        default=10, ge=2, description="Seconds to connect to the ERP's PostgreSQL (libpq)."
    )
    erp_statement_timeout: float = Field(
        default=900.0,
        gt=0,
        description="Seconds one ERP read may run (PostgreSQL statement_timeout).",
    )
    # Object store of an s3:// lake. The standard AWS names (no NOVA_ prefix), so delta-rs,
    # DuckDB and the AWS tools of an operator's shell all agree on one set of variables.
    aws_endpoint_url: str | None = Field(
        default=None,
        validation_alias="AWS_ENDPOINT_URL",
        description="S3 endpoint URL (MinIO, SeaweedFS, ...); unset: AWS itself.",
    )
    aws_access_key_id: SecretStr | None = Field(
        default=None, validation_alias="AWS_ACCESS_KEY_ID", description="S3 access key."
    )
    aws_secret_access_key: SecretStr | None = Field(
        default=None, validation_alias="AWS_SECRET_ACCESS_KEY", description="S3 secret key."
    )
    aws_region: str = Field(
        default="us-east-1", validation_alias="AWS_REGION", description="S3 region."
    )
    aws_allow_http: bool = Field(
        default=False,
        validation_alias="AWS_ALLOW_HTTP",
        description="Allow a plain http:// endpoint (a local S3 server).",
    )
    dbt_project_dir: Path = REPO_ROOT / "dbt"
    dbt_target: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="dbt target: duckdb (embedded default) or spark (dbt-spark, scale-out).",
    )
    spark_method: Literal["session", "thrift", "http"] = Field(
        default="session",
        description="How dbt reaches Spark: an in-process local session, or a cluster's Thrift/HTTP endpoint.",
    )
    spark_host: str = Field(
        default="localhost", description="Spark Thrift/HTTP host (not session)."
    )
    spark_port: int = Field(default=10000, ge=1, le=65535, description="Spark Thrift/HTTP port.")
    spark_schema: str = Field(
        default="nova",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Spark database of the models.",
    )
    spark_master: str = Field(default="local[2]", description="Master URL of the local session.")
    spark_shuffle_partitions: int = Field(
        default=8,
        ge=1,
        description="Local session: shuffle partitions (Spark's 200 suit a cluster).",
    )
    spark_driver_memory: str = Field(default="4g", description="Local session: driver memory.")
    spark_file_format: Literal["parquet", "delta"] = Field(
        default="parquet",
        description="Table format on Spark: delta where the cluster has the Delta jars.",
    )
    dbt_threads: int = 2
    gold_retention_hours: int = Field(
        default=168,
        ge=0,
        description="Old versions of gold tables are vacuumed after this. Raised (with a "
        "warning) to a floor of 2 x gold_version_poll_seconds + api_query_timeout_seconds, "
        "at least 1 h, so readers of the previous snapshot keep their files; the published "
        "snapshot itself is never vacuumed.",
    )
    run_lock_ttl_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A run's lake lock expires this long after its holder's last heartbeat "
        "(a crashed run's lock is taken over then).",
    )
    run_lock_wait_seconds: float = Field(
        default=7200.0, ge=0, description="How long a run waits for another run's lake lock."
    )

    # Forecasting (issue 4)
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking and registry URI; default sqlite:///<warehouse_dir>/mlflow.db.",
    )
    mlflow_experiment: str = Field(
        default="demand-forecasting", description="MLflow experiment of `nova train` runs."
    )
    forecast_horizon: int = Field(default=90, ge=1, description="Days forecast by the daily run.")
    forecast_history_days: int = Field(
        default=730, ge=60, description="Days of demand history the forecasters see."
    )
    forecast_jobs: int = Field(default=2, ge=1, description="Worker processes for forecasting.")
    forecast_engine: Literal["inprocess", "spark"] = Field(
        default="inprocess",
        description="Where the daily forecast step runs the champion: inprocess (worker "
        "processes of this machine) or spark (applyInArrow per group of series on the Spark "
        "session of dbt's spark target: NOVA_SPARK_MASTER local or a cluster).",
    )
    forecast_budget_seconds: float = Field(
        default=100.0,
        gt=0,
        description="Training keeps the ensemble's estimated daily local-model time under this.",
    )
    forecast_state_max_age_days: int = Field(
        default=14,
        ge=0,
        description="The daily forecast uses the per-series model state fitted by `nova train` "
        "while it is at most this many days old; older, every series is fitted again.",
    )
    train_sample_per_class: int = Field(
        default=100, ge=10, description="Series per demand class in `nova train`'s backtest."
    )
    train_windows: int = Field(
        default=2, ge=1, description="Rolling-origin windows of `nova train`'s backtest."
    )
    # External sources (backend/ingest): INMET, BACEN, Anatel, the supplier API.
    sources_mode: Literal["live", "recorded"] | None = Field(
        default=None,
        description=(
            "live: call the real APIs; recorded: serve the demo's recorded responses "
            "(backend/demo/recorded.py), no network. Unset: recorded when the ERP is a "
            "SQLite file (the embedded demo), live otherwise."
        ),
    )
    inmet_base_url: str = Field(
        default="https://apitempo.inmet.gov.br", description="INMET's weather API."
    )
    inmet_token: SecretStr | None = Field(
        default=None, description="INMET API token (needed for station observations, live)."
    )
    inmet_stations_per_depot: int = Field(
        default=2, ge=1, description="Nearest automatic weather stations read per depot."
    )
    bacen_base_url: str = Field(
        default="https://api.bcb.gov.br", description="BACEN's SGS time-series API."
    )
    anatel_csv_url: str = Field(
        default="https://dados.anatel.gov.br/estacoes-licenciadas/BA.csv",
        description="Anatel's open-data CSV of licensed stations (one state).",
    )
    suppliers_base_url: str = Field(
        default="https://suppliers.novacorrente.example",
        description="The supplier quotes REST API.",
    )
    suppliers_api_key: SecretStr | None = Field(
        default=None, description="Bearer token of the supplier API."
    )
    http_connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect.")
    http_read_timeout: float = Field(default=30.0, gt=0, description="Seconds to read.")
    http_attempts: int = Field(default=5, ge=1, description="Tries per request (retries + 1).")
    http_backoff_base: float = Field(
        default=0.5, ge=0, description="First retry waits up to this (doubling, jittered)."
    )
    http_max_concurrency: int = Field(default=4, ge=1, description="Requests in flight per source.")

    # Services: each is optional in the embedded default.
    redis_url: str | None = Field(
        default=None, description="Redis URL of the API cache; unset: no cache (reads go to gold)."
    )
    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers; unset: alerts wait in the outbox, no live stream.",
    )

    # Serving (backend/api, backend/events).
    api_host: str = Field(default="127.0.0.1", description="Address `nova serve` binds.")
    api_port: int = Field(default=8000, ge=0, le=65535, description="Port `nova serve` binds.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed by CORS (the dashboard), a JSON list: ["https://dash.example"].',
    )
    api_keys_db: Path | None = Field(
        default=None,
        description="The old SQLite file of hashed API keys (default "
        "<warehouse_dir>/api_keys.sqlite): imported into the app database on upgrade.",
    )
    # The app database and people's sign-in (backend/appdb, backend/api/auth.py).
    app_db_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the app database (users, sessions, API keys, ...); "
        "default a SQLite file <warehouse_dir>/app.sqlite. PostgreSQL in the stack.",
    )
    app_db_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to connect to a PostgreSQL app database."
    )
    app_db_statement_timeout_ms: int = Field(
        default=15_000, ge=100, description="PostgreSQL statement timeout of the app database."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret signing session cookies and CSRF tokens; required when "
        "env=prod. In dev/test it is generated once into <warehouse_dir>/secret_key (0600).",
    )
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the session cookies; default: on unless env is dev/test.",
    )
    session_idle_minutes: float = Field(
        default=120, gt=0, description="A session unused this long expires."
    )
    session_absolute_hours: float = Field(
        default=12, gt=0, description="A session expires this long after sign-in, used or not."
    )
    password_min_length: int = Field(default=12, ge=8, description="Shortest password accepted.")
    login_max_failures_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins of one email in the window before 429."
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins from one client address in the window."
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="Window over which failed sign-ins are counted."
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a checked key or session is remembered: revocation takes "
        "effect within this.",
    )
    ws_auth_recheck_seconds: float = Field(
        default=2.0, gt=0, description="How often each WebSocket client's sign-in is re-checked."
    )
    cache_ttl_seconds: int = Field(default=300, ge=1, description="TTL of cached API responses.")
    api_rate_per_minute: int = Field(
        default=1200,
        ge=0,
        description="Requests per minute per API key, session or anonymous address; 0: no limit.",
    )
    api_rate_burst: int = Field(
        default=300, ge=1, description="Requests a client may send at once above its rate."
    )
    api_snapshot_table_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Gold tables of the published snapshot up to this many bytes of files are "
        "copied into the API's memory once per version (small marts); 0: always scan the lake.",
    )
    api_memory_table_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=0,
        description="Hot gold tables (forecasts, demand, snapshots, reorder points) of the "
        "published snapshot are held in the API's memory sorted by item when each fits this "
        "many bytes there, so a one-item read slices its rows; 0: always query the lake.",
    )
    api_client_query_workers: int = Field(
        default=2,
        ge=0,
        description="Gold query workers (of 4 per API process) one client may hold at once; "
        "its further uncached queries wait for its own. 0: no cap.",
    )
    api_max_in_flight: int = Field(
        default=16, ge=0, description="Requests of one client served at once; 0: no cap."
    )
    gold_version_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the API re-reads the gold version."
    )
    api_query_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A DuckDB read of the API is interrupted after this."
    )
    api_query_memory_limit: str = Field(
        default="2GB", description="DuckDB memory limit of the API's gold reads (e.g. 2GB)."
    )
    alerts_topic: str = Field(default="stock-alerts", description="Kafka topic of stock alerts.")
    inventory_topic: str = Field(
        default="inventory-events", description="Kafka topic of ERP stock movements."
    )
    ws_queue_size: int = Field(
        default=256, ge=1, description="Alerts queued per WebSocket client before it is dropped."
    )
    ws_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="A WebSocket client hears at least this often."
    )
    ws_resume_buffer: int = Field(
        default=10_000, ge=1, description="Recent alerts kept for clients resuming from an id."
    )
    stream_state_db: Path | None = Field(
        default=None,
        description="SQLite file of `nova stream` positions and offsets; default "
        "<warehouse_dir>/stream_state.sqlite.",
    )

    # The real-time stream and Kafka authentication (issue 15: backend/events).
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None,
        description="SASL mechanism of every Kafka client; unset: no authentication (PLAINTEXT).",
    )
    kafka_sasl_username: str | None = Field(default=None, description="Kafka SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="Kafka SASL password.")
    kafka_sasl_tls: bool = Field(
        default=False,
        description="SASL over TLS (SASL_SSL, system CA store) rather than SASL_PLAINTEXT.",
    )
    stream_dead_letter_topic: str = Field(
        default="inventory-events-dlq",
        description="Kafka topic where `nova stream` sends rejected movements, with the reason.",
    )
    stream_max_quantity: float = Field(
        default=1_000_000.0,
        gt=0,
        description="Hard cap: a movement of more units than this is rejected as absurd.",
    )
    stream_absurd_factor: float = Field(
        default=50.0,
        gt=1,
        description="A movement beyond this multiple of its pair's scale (largest accepted "
        "movement, gold order-up-to, gold position) is rejected as absurd.",
    )
    stream_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often `nova stream` re-reads gold and the topic's partitions.",
    )
    stream_backoff_max_seconds: float = Field(
        default=30.0, gt=0, description="Longest wait between `nova stream` reconnects."
    )
    stream_metrics_port: int = Field(
        default=9108,
        ge=0,
        le=65535,
        description="Port of `nova stream`'s Prometheus /metrics (0: not served).",
    )

    # Logs and metrics (backend/observability, docs/operations.md).
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="Log lines: json (one JSON object per event), console (for people), or "
        "auto: console when stderr is a terminal, json otherwise (services, Airflow, pipes).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe log level written by `nova` and its services."
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Directory where `nova serve`'s workers keep their Prometheus counters "
        "(prometheus_client multiprocess mode), emptied at each start; default: a new "
        "temporary directory per start.",
    )

    # Orchestration with Airflow (dags/): the DAGs read these; Airflow's own configuration
    # (home, executor, ports) lives in infra/airflow/.
    airflow_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of Airflow's metadata database for `make airflow` "
        "(PostgreSQL); SQLite in the Airflow home when unset.",
    )
    airflow_dbt_manifest: Path = Field(
        default=REPO_ROOT / "dbt" / "target-airflow" / "manifest.json",
        description="manifest.json the DAGs render the dbt project from (`make dbt-manifest`).",
    )
    airflow_retries: int = Field(
        default=2, ge=0, description="Retries of every Airflow task (extract tasks: see below)."
    )
    airflow_extract_retries: int = Field(
        default=4,
        ge=0,
        description="Retries of each source's extract task, with exponential backoff.",
    )
    airflow_dbt_poke_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often a dbt model's task checks the dbt build's progress.",
    )
    airflow_retry_delay_seconds: float = Field(
        default=60.0,
        gt=0,
        description="First retry delay of Airflow tasks; extract tasks double it each try.",
    )
    airflow_task_timeout_seconds: float = Field(
        default=7200.0, gt=0, description="execution_timeout of every daily Airflow task."
    )
    airflow_dagrun_timeout_seconds: float = Field(
        default=8 * 3600.0,
        gt=0,
        description="A daily DAG run times out after this; its lake lock expires with it.",
    )

    # Source freshness (backend/pipeline/freshness.py): the newest data of a source may be
    # at most this many days older than the run date D. A stale ERP fails the run; any
    # other stale source makes it degraded.
    freshness_erp_days: int = Field(
        default=2, ge=0, description="Max age (days before D) of the ERP's newest rows."
    )
    freshness_inmet_days: int = Field(
        default=3, ge=0, description="Max age (days before D) of INMET's newest observations."
    )
    freshness_bacen_days: int = Field(
        default=5,
        ge=0,
        description="Max age (days before D) of BACEN's newest value (weekends, holidays).",
    )
    freshness_suppliers_days: int = Field(
        default=14, ge=0, description="Max age (days before D) of the newest supplier quote."
    )

    # Notifications (backend/notify): off unless an SMTP URL or a webhook URL is set.
    notify_smtp_url: SecretStr | None = Field(
        default=None,
        description="SMTP server: smtp://[user:password@]host[:port] (plain, 25), "
        "smtp+starttls://... (STARTTLS, 587) or smtps://... (TLS, 465). Unset: no email.",
    )
    notify_email_from: str = Field(
        default="nova@localhost", description="Sender address of notification emails."
    )
    notify_email_to: str = Field(
        default="",
        description="Recipients, comma-separated: an address gets everything, DEPOT:address "
        "only that depot's alerts (e.g. ops@x,DEP-SSA:ssa@x).",
    )
    notify_webhook_url: SecretStr | None = Field(
        default=None,
        description="Incoming webhook (Slack or Teams) that gets a JSON {text} per "
        "notification. Unset: no webhook.",
    )
    notify_attempts: int = Field(
        default=4, ge=1, description="Tries per email or webhook before it is given up."
    )
    notify_backoff_seconds: float = Field(
        default=2.0, ge=0, description="First retry of a notification waits this (doubling)."
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Seconds to connect to and talk with SMTP or a webhook."
    )
    notify_digest_lines: int = Field(
        default=30, ge=1, description="Alert lines listed per message; the rest are counted."
    )

    @field_validator("notify_smtp_url")
    @classmethod
    def _smtp_url_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        # the full check (host, port) is backend/notify/channels.py parse_smtp_url's; the
        # scheme is checked here so a typo stops at start-up, not at the first alert
        if value is not None:
            scheme = value.get_secret_value().partition("://")[0].lower()
            if scheme not in ("smtp", "smtp+starttls", "smtps"):
                raise ValueError(
                    "NOVA_NOTIFY_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://"
                )
        return value

    @field_validator("notify_email_to")
    @classmethod
    def _recipients(cls, value: str) -> str:
        for entry in filter(None, (e.strip() for e in value.split(","))):
            depot, sep, address = entry.rpartition(":")
            if address.count("@") != 1 or " " in address or (sep and not depot.strip()):
                raise ValueError(
                    f"NOVA_NOTIFY_EMAIL_TO: {entry!r} is not 'address' or 'DEPOT:address'"
                )
        return value

    @property
    def lake_uri(self) -> str:
        """The lake root as an absolute local path or an object-store URI."""
        if "://" in self.lake_root:
            return self.lake_root.rstrip("/")
        return str(Path(self.lake_root).expanduser().resolve())

    @property
    def lake_on_s3(self) -> bool:
        return self.lake_uri.startswith("s3://")

    @property
    def lake_storage_options(self) -> dict[str, str] | None:
        """delta-rs ``storage_options`` for the lake: None for a local lake.

        Passed explicitly rather than left to delta-rs reading AWS_* itself, so a Settings
        object built in code (a test, a second lake) reaches the store it names.
        """
        if not self.lake_on_s3:
            return None
        options = {"AWS_REGION": self.aws_region}
        if self.aws_endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
            # A custom endpoint (MinIO, SeaweedFS) serves buckets as paths, not subdomains.
            options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
        if self.aws_allow_http:
            options["AWS_ALLOW_HTTP"] = "true"
        if self.aws_access_key_id:
            options["AWS_ACCESS_KEY_ID"] = self.aws_access_key_id.get_secret_value()
        if self.aws_secret_access_key:
            options["AWS_SECRET_ACCESS_KEY"] = self.aws_secret_access_key.get_secret_value()
        return options

    @property
    def aws_endpoint(self) -> tuple[str, str, bool] | None:
        """The custom S3 endpoint as (scheme, host[:port], use_ssl), or None for AWS."""
        if not self.aws_endpoint_url:
            return None
        parts = urlsplit(self.aws_endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"AWS_ENDPOINT_URL must be http(s)://host[:port], not {self.aws_endpoint_url!r}"
            )
        return parts.scheme, parts.netloc, parts.scheme == "https"

    @property
    def effective_sources_mode(self) -> Literal["live", "recorded"]:
        if self.sources_mode is not None:
            return self.sources_mode
        return "recorded" if self.erp_url.startswith("sqlite") else "live"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir.expanduser().resolve()

    @property
    def mlflow_uri(self) -> str:
        """The tracking URI: the setting, or a SQLite store beside the warehouse."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.warehouse_path / 'mlflow.db'}"

    @property
    def mlflow_artifact_dir(self) -> Path:
        """Artifact root of the local store's experiments."""
        return self.warehouse_path / "mlartifacts"

    @property
    def api_keys_path(self) -> Path:
        return (self.api_keys_db or self.warehouse_path / "api_keys.sqlite").expanduser().resolve()

    @property
    def app_db_uri(self) -> str:
        """The app database's URL (with its password: never log it)."""
        if self.app_db_url is not None:
            return self.app_db_url.get_secret_value()
        return f"sqlite:///{self.warehouse_path / 'app.sqlite'}"

    @property
    def secret_key_path(self) -> Path:
        return self.warehouse_path / "secret_key"

    @property
    def cookies_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.env not in ("dev", "test")

    @property
    def kafka_security(self) -> dict[str, Any]:
        """aiokafka client options for the configured authentication (empty: PLAINTEXT)."""
        if self.kafka_sasl_mechanism is None:
            return {}
        if not self.kafka_sasl_username or self.kafka_sasl_password is None:
            raise ValueError(
                "NOVA_KAFKA_SASL_MECHANISM needs NOVA_KAFKA_SASL_USERNAME and "
                "NOVA_KAFKA_SASL_PASSWORD"
            )
        options: dict[str, Any] = {
            "security_protocol": "SASL_SSL" if self.kafka_sasl_tls else "SASL_PLAINTEXT",
            "sasl_mechanism": self.kafka_sasl_mechanism,
            "sasl_plain_username": self.kafka_sasl_username,
            "sasl_plain_password": self.kafka_sasl_password.get_secret_value(),
        }
        if self.kafka_sasl_tls:
            import ssl

            options["ssl_context"] = ssl.create_default_context()
        return options

    @property
    def stream_state_path(self) -> Path:
        path = self.stream_state_db or self.warehouse_path / "stream_state.sqlite"
        return path.expanduser().resolve()

    @property
    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt process, so the committed profiles.yml resolves here.

        An s3:// lake adds where its store is (endpoint, region): the gold plugin inside
        dbt reads them back through this class. No credentials: this dict also goes into
        Airflow's DAGs, which are serialized and shown; see :attr:`dbt_credentials_env`.
        """
        env = {
            "NOVA_LAKE_ROOT": self.lake_uri,
            "NOVA_WAREHOUSE_DIR": str(self.warehouse_path),
            "NOVA_DBT_THREADS": str(self.dbt_threads),
            "NOVA_GOLD_RETENTION_HOURS": str(self.gold_retention_hours),
            "NOVA_SPARK_METHOD": self.spark_method,
            "NOVA_SPARK_HOST": self.spark_host,
            "NOVA_SPARK_PORT": str(self.spark_port),
            "NOVA_SPARK_SCHEMA": self.spark_schema,
            "NOVA_SPARK_MASTER": self.spark_master,
            "NOVA_SPARK_FILE_FORMAT": self.spark_file_format,
            "NOVA_SPARK_SHUFFLE_PARTITIONS": str(self.spark_shuffle_partitions),
            "NOVA_SPARK_DRIVER_MEMORY": self.spark_driver_memory,
        }
        if self.lake_on_s3:
            env["AWS_REGION"] = self.aws_region
            env["AWS_ALLOW_HTTP"] = "true" if self.aws_allow_http else "false"
            if self.aws_endpoint_url:
                env["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        return env

    @property
    def dbt_credentials_env(self) -> dict[str, str]:
        """The S3 keys of an s3:// lake for a dbt run in this process (the pipeline's
        runner); empty for a local lake or when the keys are not set. Airflow's dbt tasks
        inherit them from the worker's environment instead."""
        env: dict[str, str] = {}
        if self.lake_on_s3 and self.aws_access_key_id and self.aws_secret_access_key:
            env["AWS_ACCESS_KEY_ID"] = self.aws_access_key_id.get_secret_value()
            env["AWS_SECRET_ACCESS_KEY"] = self.aws_secret_access_key.get_secret_value()
        return env


@lru_cache
def get_settings() -> Settings:
    return Settings()
