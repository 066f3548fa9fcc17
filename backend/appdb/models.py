"""Every aggregate's models, imported so ``Base.metadata`` is complete (migrations, tests).

A new aggregate module adds its import here.
"""

from backend.appdb import alert_states, keys, login_attempts, orders, sessions, users
from backend.appdb.base import Base

metadata = Base.metadata

__all__ = ["alert_states", "keys", "login_attempts", "metadata", "orders", "sessions", "users"]
