"""The demo's recorded API responses served by the local replay server, for the tests
of the external sources: any request not scripted otherwise gets the recording."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from backend.demo.recorded import CatalogueRow, RecordedAPIs
from backend.settings import Settings
from tests.services.http_replay import Reply, Script

TOKEN = "test-token"


def recorded_script(catalogue: Sequence[CatalogueRow] = ()) -> Script:
    apis = RecordedAPIs(catalogue=lambda: catalogue)

    def fallback(path: str) -> Reply:
        route, _, query = path.partition("?")
        status, headers, body = apis.respond(route, query)
        return Reply(status, body, headers)

    return Script(fallback=fallback)


def live_settings(settings: Settings, base_url: str, **overrides: object) -> Settings:
    """Live mode against the replay server: short timeouts, no waits between retries."""
    values: dict[str, object] = {
        "sources_mode": "live",
        "inmet_base_url": base_url,
        "inmet_token": SecretStr(TOKEN),
        "bacen_base_url": base_url,
        "anatel_csv_url": f"{base_url}/anatel/BA.csv",
        "suppliers_base_url": base_url,
        "http_attempts": 3,
        "http_backoff_base": 0.0,
        "http_read_timeout": 2.0,
        **overrides,
    }
    return settings.model_copy(update=values)
