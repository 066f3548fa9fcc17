"""Run dbt in-process on the committed project, the way the pipeline does."""

from __future__ import annotations

from typing import Any

from backend.pipeline.dbt import dbt_args, dbt_environment
from backend.settings import Settings


def invoke_dbt(args: list[str], settings: Settings) -> Any:
    """``dbt <args>`` with the pipeline's arguments and environment for ``settings``."""
    from dbt.cli.main import dbtRunner

    command, *rest = args
    with dbt_environment(settings):
        return dbtRunner().invoke(["--quiet", *dbt_args(command, settings), *rest])
