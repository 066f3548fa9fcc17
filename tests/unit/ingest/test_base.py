"""The bronze writer: content row ids, and bronze tables written before a column existed."""

from datetime import UTC, date, datetime

import pyarrow as pa

from backend.ingest.base import (
    AUDIT_FIELDS,
    EntityExtract,
    ExtractWindow,
    bronze_uri,
    row_ids,
    with_audit_columns,
    write_bronze,
)
from backend.ingest.erp import ErpSource
from backend.lake import delta

DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 4, tzinfo=UTC)


def test_a_clean_row_keeps_its_id_when_type_errors_is_added(settings):
    content = pa.table({"item_id": ["ITM-1", "ITM-1"], "quantity": [4, None]})
    noted = content.append_column(
        "_type_errors", pa.array([None, "quantity: 'abc' is not a valid int64"])
    )

    before, after = row_ids(content, settings), row_ids(noted, settings)

    assert after[0] == before[0]
    assert after[1] != before[1]


def test_bronze_written_before_type_errors_existed_gains_the_column(settings):
    source = ErpSource()
    schema = source.schemas["depots"]
    uri = bronze_uri("erp", "depots", settings)
    old = pa.schema([*schema, *AUDIT_FIELDS])  # no _type_errors: a lake from before
    delta.overwrite_partitions(uri, old.empty_table(), date.min, date.max, settings)
    rows = pa.table(
        {
            "depot_id": ["DEP-A"],
            "name": ["Salvador"],
            "municipality": ["Salvador"],
            "state": ["BA"],
            "lat": [-12.97],
            "lon": [-38.5],
            "updated_at": pa.array([None], pa.timestamp("us")),
            "_type_errors": pa.array([None], pa.string()),
        }
    )
    window = ExtractWindow(DAY, DAY, "b1", settings)

    written = write_bronze(
        source, window, [EntityExtract("depots", rows, pa.array([DAY], pa.date32()))]
    )

    table = delta.read_table(uri, settings=settings)
    assert written == {"depots": 1}
    assert "_type_errors" in table.column_names
    assert table["depot_id"].to_pylist() == ["DEP-A"]


def _window_rows(days: list[date]) -> EntityExtract:
    rows = pa.table({"depot_id": [f"DEP-{i}" for i in range(len(days))]})
    return EntityExtract("depots", rows, pa.array(days, pa.date32()))


def test_rows_out_of_partition_order_are_sorted_and_rows_in_order_kept(settings):
    window = ExtractWindow(DAY, date(2024, 3, 3), "b1", settings)
    later, last = date(2024, 3, 2), date(2024, 3, 3)

    shuffled = with_audit_columns("erp", _window_rows([later, DAY, last, DAY]), window, NOW)
    ordered = with_audit_columns("erp", _window_rows([DAY, DAY, later, last]), window, NOW)

    assert shuffled["depot_id"].to_pylist() == ["DEP-1", "DEP-3", "DEP-0", "DEP-2"]
    assert ordered["depot_id"].to_pylist() == ["DEP-0", "DEP-1", "DEP-2", "DEP-3"]
    assert ordered["_ingest_date"].to_pylist() == [DAY, DAY, later, last]
