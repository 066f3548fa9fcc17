"""The server secret: from NOVA_SECRET_KEY, required in prod, generated once in dev/test."""

from __future__ import annotations

import stat

import pytest
from pydantic import SecretStr

from backend.appdb.server_secret import MissingSecret, server_secret
from backend.settings import Settings


def test_generated_once_into_a_private_file(settings: Settings) -> None:
    first = server_secret(settings)
    assert len(first) >= 32
    assert stat.S_IMODE(settings.secret_key_path.stat().st_mode) == 0o600
    assert server_secret(settings) == first  # every worker and restart reads the same


def test_required_in_prod_and_taken_from_the_setting(settings: Settings) -> None:
    prod = settings.model_copy(update={"env": "prod"})
    with pytest.raises(MissingSecret, match="NOVA_SECRET_KEY"):
        server_secret(prod)
    given = prod.model_copy(update={"secret_key": SecretStr("s" * 40)})
    assert server_secret(given) == b"s" * 40
    with pytest.raises(MissingSecret):
        server_secret(prod.model_copy(update={"secret_key": SecretStr("short")}))
