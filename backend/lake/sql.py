"""Names that go into SQL text. Values are always bound as parameters; the few names
that cannot be (tables, columns from our own contracts) must pass this check first."""

from __future__ import annotations


def plain_name(name: str) -> str:
    """``name`` if it is letters, digits and underscores only; otherwise ValueError."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def quote_name(name: str) -> str:
    """A plain name as a quoted SQL identifier."""
    return f'"{plain_name(name)}"'
