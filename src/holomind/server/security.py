"""What keeps the dashboard safe: loopback by default, a token elsewhere, one origin, limits.

`Guard` is plain ASGI middleware, so HTTP, server-sent events and WebSockets pass
through the same checks before any route runs:

- **Host**: bound to loopback, only loopback host names are served (a web page
  that rebinds its own DNS name to 127.0.0.1 gets nothing).
- **Token**: when the server has one (required off loopback), every request
  carries it as ``Authorization: Bearer``, an ``X-HoloMind-Token`` header, the
  ``holomind_token`` cookie, or ``?token=`` (which also sets the cookie, so a
  browser opened on ``/?token=…`` keeps working); anything else gets 401.
- **Origin**: CORS stays closed (no CORS headers are ever sent), and requests
  that change something, and every WebSocket, are refused when a browser says
  they come from another origin.
- **Size**: request bodies above a limit get 413 (uploads have their own, larger one).
- **Headers**: every response carries a content security policy (only the
  server's own scripts and styles, no framing) and its companions.

`child_path` is the one way a user-named file or folder is turned into a path.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

from holomind.errors import ConfigError, InvalidInputError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Sent with every HTTP response: the page runs only its own scripts and styles and is never framed.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
TOKEN_COOKIE = "holomind_token"
TOKEN_HEADER = "x-holomind-token"
MIN_TOKEN_CHARS = 12
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, IPv6 with or without brackets) is this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve off loopback without a token, or with a token too short to guard anything."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"the token is {len(token)} characters; it needs at least {MIN_TOKEN_CHARS}",
            hint='make one with: python -c "import secrets; print(secrets.token_urlsafe())"',
        )
    if not token and not is_loopback(host):
        raise ConfigError(
            f"binding to {host} would open the dashboard to the network without a token",
            hint="pass --token (or set HOLOMIND_TOKEN), or bind to 127.0.0.1",
        )


def child_path(root: Path, name: str, what: str) -> Path:
    """``root/name`` for a relative ``name`` a user sent; no absolute path, ``..`` or symlink.

    Every component below ``root`` is checked, so a link planted inside the
    folder cannot lead out of it either.
    """
    if not isinstance(name, str) or not name.strip() or "\x00" in name or "\\" in name:
        raise InvalidInputError(f"{what} must be a plain relative name, got {name!r}")
    pure = PurePosixPath(name)
    if pure.is_absolute() or name.startswith("~"):
        raise InvalidInputError(
            f"{what} {name!r} is an absolute path", hint=f"name something inside {root}"
        )
    if ".." in pure.parts:
        raise InvalidInputError(f"{what} {name!r} leads out of {root}", hint="remove the '..'")
    path = root
    for part in pure.parts:
        path = path / part
        if path.is_symlink():
            raise InvalidInputError(
                f"{what} {name!r} goes through a symbolic link", hint="copy the files instead"
            )
    if not path.resolve().is_relative_to(root.resolve()):
        raise InvalidInputError(f"{what} {name!r} leads out of {root}")
    return path


@dataclass(frozen=True)
class Limits:
    """Largest request bodies, in bytes."""

    body: int = 1 << 20  # JSON requests
    upload: int = 64 << 20  # files sent to an upload path
    upload_paths: tuple[str, ...] = ("/api/memory/import",)

    def for_path(self, path: str) -> int:
        """The limit that applies to a request for ``path``."""
        return self.upload if path in self.upload_paths else self.body


class Guard:
    """ASGI middleware: host, token, origin and body-size checks for HTTP and WebSocket."""

    def __init__(
        self, app: ASGIApp, *, token: str | None, loopback: bool, limits: Limits = Limits()
    ) -> None:
        self.app = app
        self.token = token
        self.loopback = loopback
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then hand it on (or answer with the refusal)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _deny(scope, receive, send, *refusal)
            return
        if scope["type"] == "http":
            limit = self.limits.for_path(scope["path"])
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                await _deny(scope, receive, send, 413, _too_large(limit))
                return
            if length is None and scope["method"] not in SAFE_METHODS:
                body = await _read_capped(receive, limit)
                if body is None:
                    await _deny(scope, receive, send, 413, _too_large(limit))
                    return
                receive = _replay(body, receive)
            cookie = self.token if self.token and _query_token(scope) is not None else None
            send = _with_headers(send, cookie)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if self.loopback and not is_loopback(urlsplit(f"//{host}").hostname or ""):
            return 400, f"this dashboard answers only on loopback addresses, not {host!r}"
        if self.token and not self._has_token(scope, headers):
            return 401, "this dashboard needs its token: open it as /?token=TOKEN"
        unsafe = scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS
        origin = headers.get("origin")
        if unsafe and origin is not None and urlsplit(origin).netloc != host:
            return 403, f"cross-origin requests are refused (origin {origin!r})"
        return None

    def _has_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        offered = [
            headers.get(TOKEN_HEADER),
            _query_token(scope),
            _cookie(headers.get("cookie", ""), TOKEN_COOKIE),
        ]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        want = self.token.encode()
        return any(t is not None and hmac.compare_digest(t.encode(), want) for t in offered)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _too_large(limit: int) -> str:
    return f"the request body is larger than this server accepts ({limit:,} bytes)"


async def _read_capped(receive: Receive, limit: int) -> bytes | None:
    """The whole body of a request without Content-Length, or None once it passes ``limit``."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _with_headers(send: Send, token: str | None) -> Send:
    """Add the security headers (and the token cookie, when it came in the URL) to a response."""
    extra = list(SECURITY_HEADERS)
    if token is not None:
        cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        extra.append((b"set-cookie", cookie.encode()))

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return wrapped


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="holomind"'))
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # the websocket.connect message
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # servers without the denial extension can only refuse the handshake (403)
        await send({"type": "websocket.close", "code": 1008})
