"""Candidate models, one module per family. Every model has an ``alias`` that names its
output column; local models forecast one series (``forecast(y, h) -> array``), global
models all series at once (``forecast(df, h, freq) -> long frame``)."""

from ml.models.base import GlobalModel, LocalModel

__all__ = ["GlobalModel", "LocalModel"]
