"""The committed OpenAPI schema (backend/api/openapi.json): the workbench's contract.

``python -m backend.api.openapi`` (``make openapi``) rewrites it; a test fails when the
committed file differs from what the app serves, so the dashboard's generated client can
never drift from the API silently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("openapi.json")


def current_schema() -> dict[str, Any]:
    """The schema the app serves (building the app reads no settings file or service)."""
    from backend.api.main import create_app
    from backend.settings import Settings

    return create_app(Settings(env="test")).openapi()


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    SCHEMA_PATH.write_text(render(current_schema()), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
