"""Who is calling: a service with an API key, or a person with a session.

Every route depends on a :class:`Principal` (``deps.CurrentPrincipal`` and friends) and
never on how it authenticated. ``depots`` is the depot scope: ``None`` means every depot;
otherwise each route restricts its rows (and the socket its alerts) to those depots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["viewer", "planner", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "planner", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    kind: Literal["key", "session"]
    subject: str  # the API key id, or the user id
    role: Role
    depots: tuple[str, ...] | None = None  # None: every depot
    email: str | None = None  # people only
    session_id: str | None = None  # people only

    def has_role(self, role: Role) -> bool:
        """At least ``role``: admin > planner > viewer."""
        return _RANK[self.role] >= _RANK[role]

    def sees_depot(self, depot_id: str | None) -> bool:
        return self.depots is None or depot_id in self.depots

    @property
    def scope_key(self) -> str:
        """A cache-key part: responses of scoped callers never mix with unscoped ones."""
        return "*" if self.depots is None else ",".join(sorted(self.depots))

    @property
    def actor(self) -> str:
        """Who did it, as recorded on what people write: the email, or key:<id>."""
        return self.email or f"key:{self.subject}"
