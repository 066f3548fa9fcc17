"""benchmarks/stream.py at a small size: every valid alert delivered, every poison event
counted and dead-lettered, no crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.stream import run_benchmark

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def test_the_stream_delivers_every_valid_alert_among_poison(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    result = run_benchmark(3_000, 0.01, tmp_path, kafka_bootstrap)
    assert result["poison_sent"] == 30
    assert result["applied"] == 3_000 - 30
    assert result["alerts_expected"] > 50  # the workload does cross thresholds
    assert result["alerts_missing"] == 0 and result["alerts_unexpected"] == 0
    assert result["alerts_delivered"] == result["alerts_expected"]
    assert result["poison_counted"] == result["dead_lettered"] == 30
    assert len(result["rejected_by_reason"]) == 7  # every kind of poison was seen
