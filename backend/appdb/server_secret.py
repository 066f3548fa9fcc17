"""The server secret that signs session cookies and CSRF tokens."""

from __future__ import annotations

import contextlib
import os
import secrets

from backend.settings import Settings


class MissingSecret(RuntimeError):
    pass


def server_secret(settings: Settings) -> bytes:
    """``NOVA_SECRET_KEY``; in dev/test, a random secret generated once into a 0600 file
    under the warehouse dir (every API worker and restart reads the same one)."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 32:
            raise MissingSecret("NOVA_SECRET_KEY must be at least 32 characters")
        return value.encode()
    if settings.env == "prod":
        raise MissingSecret("NOVA_SECRET_KEY is required when NOVA_ENV=prod")
    path = settings.secret_key_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: of two processes starting together, one writes and both read its secret.
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    value = path.read_text().strip()
    if len(value) < 32:
        raise MissingSecret(f"the secret in {path} is too short; delete it to regenerate")
    return value.encode()
