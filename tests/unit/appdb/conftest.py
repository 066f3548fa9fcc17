"""An app database on a SQLite file, migrated, for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from backend.appdb import upgrade
from backend.settings import Settings


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = upgrade(settings)
    yield engine
    engine.dispose()
