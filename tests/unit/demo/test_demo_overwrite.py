"""`nova demo` regenerates its own database and refuses any other (issue 15)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.demo.erp import DEMO_MARKER, DemoConfig, NotADemoDatabase, generate_demo

pytestmark = pytest.mark.reliability

SMALL = DemoConfig(items=4, depots=1, towers=3, years=1, end_date=date(2026, 10, 31), seed=3)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_database_it_did_not_create_is_left_untouched(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table items (item_id text primary key, name text)")
        conn.exec_driver_sql("insert into items values ('REAL-1', 'someone''s real part')")
    engine.dispose()
    with pytest.raises(NotADemoDatabase, match=r"did not create.*NOVA_ERP_URL"):
        generate_demo(url, SMALL)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select item_id from items").fetchall() == [("REAL-1",)]
    engine.dispose()
    assert DEMO_MARKER not in _tables(url)


def test_its_own_database_is_regenerated(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    first = generate_demo(url, SMALL)
    assert DEMO_MARKER in _tables(url)
    assert generate_demo(url, SMALL) == first


def test_a_postgres_database_of_another_application_is_refused(pg_url: str):
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table orders (id int primary key)")
    engine.dispose()
    with pytest.raises(NotADemoDatabase) as refused:
        generate_demo(pg_url, SMALL)
    password = sa.make_url(pg_url).password
    assert not password or str(password) not in str(refused.value)
    assert _tables(pg_url) == {"orders"}
