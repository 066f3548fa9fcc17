"""Every aggregate's models, imported so ``Base.metadata`` is complete (migrations, tests).

A new aggregate module adds its import here.
"""

from backend.appdb import keys, login_attempts, sessions, users
from backend.appdb.base import Base

metadata = Base.metadata

__all__ = ["keys", "login_attempts", "metadata", "sessions", "users"]
