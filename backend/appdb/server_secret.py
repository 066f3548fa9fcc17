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
    if not path.exists():
        # Written whole to a private temp file, then linked into place: link fails if
        # another process got there first, and nobody ever reads a half-written secret.
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            temp.unlink()
    value = path.read_text().strip()
    if len(value) < 32:
        raise MissingSecret(f"the secret in {path} is too short; delete it to regenerate")
    return value.encode()
