"""The app database: what people write (users, sessions, API keys, alert states, orders).

SQLAlchemy 2 models, one module per aggregate; Alembic migrations under ``migrations/``,
applied by :func:`upgrade` (idempotent), which the API and every CLI command needing the
database call first. The app never creates tables outside a migration.
"""

from backend.appdb.engine import make_engine
from backend.appdb.migrate import current_revision, downgrade, head_revision, upgrade

__all__ = ["current_revision", "downgrade", "head_revision", "make_engine", "upgrade"]
