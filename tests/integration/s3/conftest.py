"""One SeaweedFS S3 server per test session (per xdist worker), and a fresh lake prefix
on it for each test module or test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.settings import Settings
from tests.services.s3 import S3Server, s3_server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture
def s3_settings(s3: S3Server, tmp_path: Path) -> Settings:
    """A lake at a prefix of its own on the session's S3 server; local paths in tmp_path."""
    return s3.settings(
        f"t-{uuid.uuid4().hex[:12]}",
        env="test",
        warehouse_dir=tmp_path / "warehouse",
        erp_url=f"sqlite:///{tmp_path / 'erp.sqlite'}",
    )
