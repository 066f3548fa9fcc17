"""The notification settings as an operator writes them: SMTP URLs and recipients."""

from __future__ import annotations

import pytest

from backend.notify.channels import Message, parse_recipients, parse_smtp_url, recipients_for
from backend.settings import Settings


def test_smtp_urls_choose_the_security_and_carry_decoded_credentials():
    plain = parse_smtp_url("smtp://relay.local")
    assert (plain.scheme, plain.host, plain.port, plain.username) == ("smtp", "relay.local", 25,
                                                                      None)  # fmt: skip
    tls = parse_smtp_url("smtp+starttls://ops%40nova.example:s%3Acr%2Ft@mail.example")
    assert (tls.port, tls.username, tls.password) == (587, "ops@nova.example", "s:cr/t")
    assert parse_smtp_url("smtps://u:p@mail.example:2465").port == 2465
    assert "s:cr/t" not in repr(tls)  # the password never shows
    for bad, why in [
        ("http://mail.example", "must start with smtp"),
        ("smtp://", "names no host"),
        ("smtp://mail.example:port", "not a number"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_smtp_url(bad)


def test_recipients_per_depot():
    everyone, by_depot = parse_recipients(" ops@x.com, DEP-SSA:ssa@x.com,DEP-SSA:lead@x.com ,")
    assert everyone == ["ops@x.com"]
    assert by_depot == {"DEP-SSA": ["ssa@x.com", "lead@x.com"]}
    settings = Settings(notify_email_to="ops@x.com,DEP-SSA:ssa@x.com")
    alert = Message("digest", "s", "t", ("alert:1",), depot_id="DEP-SSA")
    other = Message("digest", "s", "t", ("alert:2",), depot_id="DEP-FSA")
    run = Message("run", "s", "t", ("run:x",))
    assert recipients_for(alert, settings) == ["ops@x.com", "ssa@x.com"]
    assert recipients_for(other, settings) == ["ops@x.com"]
    assert recipients_for(run, settings) == ["ops@x.com"]
    # nobody set for all: a run outcome reaches every depot's addresses
    depots_only = Settings(notify_email_to="DEP-SSA:ssa@x.com,DEP-FSA:fsa@x.com")
    assert recipients_for(run, depots_only) == ["ssa@x.com", "fsa@x.com"]
    assert recipients_for(other, depots_only) == ["fsa@x.com"]
    for bad in ("ops", "DEP:ops", ":ops@x.com", "a b@x.com"):
        with pytest.raises(ValueError, match="NOVA_NOTIFY_EMAIL_TO"):
            parse_recipients(bad)


def test_settings_refuse_a_bad_smtp_scheme_or_recipient_at_start_up():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="NOVA_NOTIFY_SMTP_URL must start with smtp"):
        Settings(notify_smtp_url="https://mail.example")
    with pytest.raises(ValidationError, match="NOVA_NOTIFY_EMAIL_TO"):
        Settings(notify_email_to="ops@x.com,DEP-SSA")
    assert Settings(notify_smtp_url="smtps://u:p@mail.example").notify_smtp_url is not None
