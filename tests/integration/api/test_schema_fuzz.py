"""Property run over the OpenAPI schema: no 5xx, every response matches its schema."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from backend.api.main import create_app
from backend.appdb import make_engine
from backend.appdb.keys import create_key
from backend.settings import Settings
from tests.services.gold import build_gold

pytestmark = pytest.mark.integration

# The app is built at collection (cheap: it reads nothing until a request comes); its lake
# and key are made by the fixture below.
ROOT = Path(tempfile.mkdtemp(prefix="nova-fuzz-"))
# No per-client rate limit: one key sends every case (429s are tested in
# test_http_conventions.py).
LAKE = Settings(env="test", lake_root=str(ROOT / "lake"), warehouse_dir=ROOT / "warehouse",
                api_rate_per_minute=0, api_max_in_flight=0)  # fmt: skip
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(LAKE))
TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def fuzz_lake() -> Iterator[None]:
    build_gold(LAKE)
    engine = make_engine(LAKE)  # create_app above already migrated the SQLite app database
    _, TOKEN["admin"] = create_key(engine, role="admin")
    engine.dispose()
    yield
    shutil.rmtree(ROOT, ignore_errors=True)


@schema.parametrize()
# Derandomized: the same examples on every run, so CI is reproducible.
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # Not the negative-data check: a case whose only invalid parts are its Authorization
    # header (replaced here by a valid key) and values schemathesis counts as non-strings
    # but sends as strings (e.g. "['x']", a valid text filter) is rightly answered 200.
    # Invalid input is checked by test_routes.py::test_invalid_input_is_a_clear_4xx.
    # Nor the positive-data check: writes rightly refuse (422) schema-valid bodies that gold
    # contradicts (an unknown item or depot, a quantity off the item's MOQ).
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN['admin']}"},
        excluded_checks=[negative_data_rejection, positive_data_acceptance],
    )


class LinkedCalls(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls through the schema's links (list -> get, create order -> approve ->
    send -> csv, alerts -> ack ...), each with real ids from the previous answer."""

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
        return {"headers": {"Authorization": f"Bearer {TOKEN['admin']}"}}

    def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
        # The same checks as above: no 5xx, every answer as documented.
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=[negative_data_rejection, positive_data_acceptance],
            transport_kwargs=kwargs,
        )


def test_linked_operations_find_no_5xx() -> None:
    LinkedCalls.run(
        settings=settings(
            max_examples=40, stateful_step_count=6, deadline=None,
            suppress_health_check=list(HealthCheck), database=None, derandomize=True,
        )
    )  # fmt: skip
