"""The HTTP exchange with a PowerAuth / Mobile Token API server.

One place turns aiohttp outcomes into the library's typed errors: a network
failure, a timeout, the PowerAuth error envelope (whatever the HTTP status,
mobile-token-api.md section 3) or a body the protocol does not allow.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from .errors import (
    AuthenticationError,
    BadResponseError,
    NetworkError,
    RequestTimeoutError,
    ServerError,
)
from .timesync import local_time_ms

_LOGGER = logging.getLogger(__name__)

USER_AGENT = "mobile-token-home-assistant/0.1"
# Bodies above this size are decoded off the event loop (long operation lists).
LARGE_BODY_BYTES = 32 * 1024
CODE_AUTH_FAIL = "POWERAUTH_AUTH_FAIL"


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded JSON answer with the times it was sent and received."""

    body: Any
    sent_ms: int
    received_ms: int


class Transport:
    """POSTs JSON bodies to one server and decodes the answers."""

    def __init__(
        self,
        client_session: aiohttp.ClientSession,
        base_url: str,
        *,
        language: str = "en",
        verify_ssl: bool = True,
        timeout: float = 20.0,
        run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
    ) -> None:
        self._client = client_session
        self._run_blocking = run_blocking
        self.base_url = base_url.rstrip("/")
        self.language = language
        self._ssl = verify_ssl  # True: default certificate checks
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Send ``body`` exactly as given (it may be signed) and decode the reply."""
        request_headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Language": self.language,
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        url = f"{self.base_url}{path}"
        sent = local_time_ms()
        try:
            async with self._client.post(
                url, data=body, headers=request_headers, ssl=self._ssl, timeout=self._timeout
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as err:
            raise RequestTimeoutError(f"The server did not answer {path} in time") from err
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as err:
            raise NetworkError(
                f"Cannot reach the server at {self.base_url}: {connection_problem(err)}"
            ) from err
        received = local_time_ms()
        _LOGGER.debug("POST %s -> HTTP %s (%d ms)", path, status, received - sent)
        if self._run_blocking is not None and len(raw) > LARGE_BODY_BYTES:
            body = await self._run_blocking(lambda: decode_body(raw, status))
        else:
            body = decode_body(raw, status)
        return Response(body, sent, received)


def connection_problem(err: aiohttp.ClientError) -> str:
    """What went wrong with the connection, in words a user can act on."""
    if isinstance(err, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate is not trusted"
    if isinstance(err, aiohttp.ClientSSLError):
        return "the TLS handshake failed (https:// to a plain http:// port?)"
    if isinstance(err, aiohttp.ClientConnectorError):
        reason = err.os_error.strerror or type(err.os_error).__name__
        return f"no connection ({reason}); is the server running and the URL right?"
    if isinstance(err, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return "the URL is not valid; it must start with http:// or https://"
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return type(err).__name__


def decode_body(raw: bytes, status: int) -> Any:
    """Return the JSON of an OK answer; raise the typed error of any other."""
    try:
        body = json.loads(raw) if raw else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
        if status < 400:
            raise BadResponseError("The server's answer is not JSON", http_status=status) from None
    error = envelope_error(body, status)
    if error is not None:
        raise error
    if status >= 400:
        raise BadResponseError(
            f"The server answered HTTP {status}: is this the Mobile Token server's URL?",
            http_status=status,
        )
    return body


def envelope_error(body: Any, status: int) -> ServerError | None:
    """The error a PowerAuth error envelope carries, or None if it is no error envelope."""
    if not isinstance(body, dict) or body.get("status") != "ERROR":
        return None
    payload = body.get("responseObject")
    code = payload.get("code") if isinstance(payload, dict) else None
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(code, str):
        code = "ERROR_GENERIC"
    if not isinstance(message, str):
        message = ""
    error_class = AuthenticationError if code == CODE_AUTH_FAIL else ServerError
    return error_class(code, message, http_status=status)


def response_object(body: Any) -> Any:
    """The ``responseObject`` of an OK envelope."""
    if not isinstance(body, dict) or body.get("status") != "OK":
        raise BadResponseError("The server's answer has no OK status")
    return body.get("responseObject")


def require_dict(value: Any, what: str) -> dict[str, Any]:
    """Narrow a decoded JSON value to an object or refuse the answer."""
    if not isinstance(value, dict):
        raise BadResponseError(f"The server's {what} is not a JSON object")
    return value


def require_str(obj: Mapping[str, Any], key: str) -> str:
    """A required string field of a decoded answer."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise BadResponseError(f"The server's answer lacks the field {key}")
    return value
