"""A real SMTP server for the tests (aiosmtpd in a thread), recording what it accepted.

``replies`` scripts the answers to DATA: each send takes the next one ("250 OK" accepts,
"451 ..." asks to try later, "554 ..." refuses); the last one repeats.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Mailbox:
    replies: list[str] = field(default_factory=lambda: ["250 OK"])
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    attempts: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply.startswith("250"):
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
            self.envelopes.append(list(envelope.rcpt_tos))
        return reply

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(mailbox: Mailbox, *, credentials: tuple[str, str] | None = None) -> Iterator[str]:
    """Serve ``mailbox`` on a free loopback port; yields ``host:port``. With
    ``credentials`` the server requires AUTH with them (over plain TCP: a test only)."""
    kwargs: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         data: Any) -> AuthResult:  # fmt: skip
            if isinstance(data, LoginPassword):
                given = (data.login.decode(), data.password.decode())
                mailbox.logins.append(given)
                return AuthResult(success=given == credentials)
            return AuthResult(success=False)

        kwargs = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield f"127.0.0.1:{controller.port}"
    finally:
        controller.stop()
