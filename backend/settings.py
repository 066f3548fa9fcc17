"""The one place that maps the environment to paths, engines and service URLs.

Every setting is read from an environment variable with the prefix ``NOVA_`` (or a
``.env`` file). Modules call :func:`get_settings`; nothing else reads ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOVA_", env_file=".env", extra="ignore")

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
    dbt_project_dir: Path = REPO_ROOT / "dbt"
    dbt_target: Literal["duckdb", "spark"] = "duckdb"
    dbt_threads: int = 2
    gold_retention_hours: int = Field(
        default=168, ge=0, description="Old versions of gold tables are vacuumed after this."
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
    forecast_budget_seconds: float = Field(
        default=100.0,
        gt=0,
        description="Training keeps the ensemble's estimated daily local-model time under this.",
    )
    train_sample_per_class: int = Field(
        default=100, ge=10, description="Series per demand class in `nova train`'s backtest."
    )
    train_windows: int = Field(
        default=2, ge=1, description="Rolling-origin windows of `nova train`'s backtest."
    )

    # Services: each is optional in the embedded default.
    redis_url: str | None = None
    kafka_bootstrap: str | None = None

    @property
    def lake_uri(self) -> str:
        """The lake root as an absolute local path or an object-store URI."""
        if "://" in self.lake_root:
            return self.lake_root.rstrip("/")
        return str(Path(self.lake_root).expanduser().resolve())

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
    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt process, so the committed profiles.yml resolves here."""
        return {
            "NOVA_LAKE_ROOT": self.lake_uri,
            "NOVA_WAREHOUSE_DIR": str(self.warehouse_path),
            "NOVA_DBT_THREADS": str(self.dbt_threads),
            "NOVA_GOLD_RETENTION_HOURS": str(self.gold_retention_hours),
        }


@lru_cache
def get_settings() -> Settings:
    return Settings()
