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

    # Services: each is optional in the embedded default.
    redis_url: str | None = None
    kafka_bootstrap: str | None = None

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
