"""The aiohttp application and server: routes, middlewares, start and stop.

Middlewares, outermost first: the request log (one readable line per request,
never a body, header or key), the admin loopback guard, injected faults
(non-admin requests only) and the error envelope (ApiError, unknown paths,
anything unexpected: always the reference envelope, never a traceback).
"""

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from . import admin, inbox, operations, powerauth, powerauth4, upgrade
from .context import EMULATOR_KEY, Emulator, emulator_of
from .errors import (
    ERROR_GENERIC,
    ERROR_NOT_FOUND,
    HTTP_BAD_REQUEST,
    HTTP_INTERNAL_ERROR,
    HTTP_NOT_FOUND,
    HTTP_PAYLOAD_TOO_LARGE,
    INVALID_REQUEST,
    MSG_GENERIC,
    ApiError,
    error_body,
)
from .faults import REQUEST_FAULTS_KEY, apply_latency
from .httpio import MAX_BODY_SIZE, json_response

_LOGGER = logging.getLogger("emulator")

HOST: Final = "127.0.0.1"
ADMIN_PREFIX: Final = "/admin"
#: How long a stopping server waits for requests in flight (a latency fault) before cancelling.
SHUTDOWN_TIMEOUT_S: Final = 0.5
_ERROR_KEY: Final = "emulator_error"
#: Status logged for a dropped request (nginx's "connection closed without response").
HTTP_DROPPED: Final = 444
_MS_PER_S: Final = 1000

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log ``METHOD path -> status (ms) [code: why]`` for every request."""
    started = time.monotonic()
    status = HTTP_INTERNAL_ERROR
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        elapsed = (time.monotonic() - started) * _MS_PER_S
        error = request.get(_ERROR_KEY)
        suffix = f" [{error}]" if error else ""
        _LOGGER.info(
            "%s %s -> %s (%.0f ms)%s", request.method, request.path, status, elapsed, suffix
        )


@web.middleware
async def fault_injection(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the armed faults to non-admin requests; keep the clock skew in force."""
    emu = emulator_of(request)
    if request.path.startswith(ADMIN_PREFIX):
        emu.clock.skew_ms = int(emu.faults.current_skew_s() * _MS_PER_S)
        return await handler(request)
    faults = emu.faults.take()
    request[REQUEST_FAULTS_KEY] = faults
    emu.clock.skew_ms = int(faults.skew_s * _MS_PER_S)
    await apply_latency(faults)
    if faults.drop:
        request[_ERROR_KEY] = "fault: connection dropped"
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=HTTP_DROPPED)
    if faults.http500:
        request[_ERROR_KEY] = "fault: http500"
        return json_response(error_body(ERROR_GENERIC, MSG_GENERIC), HTTP_INTERNAL_ERROR)
    response = await handler(request)
    if faults.malformed and isinstance(response, web.Response) and response.body is not None:
        request[_ERROR_KEY] = "fault: malformed answer"
        body = bytes(response.body)  # type: ignore[arg-type]
        return web.Response(
            body=body[: len(body) // 2] or b"{", status=200, content_type="application/json"
        )
    return response


V3_PREFIX: Final = "/pa/v3/"
#: Still answered with 3.3 switched off: it only tells the time.
V3_ALWAYS: Final = "/pa/v3/status"


@web.middleware
async def protocol_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse the 3.3 endpoints while the server accepts only protocol 4.0."""
    emu = emulator_of(request)
    if request.path.startswith(V3_PREFIX) and request.path != V3_ALWAYS and not emu.speaks_v3:
        raise ApiError(
            HTTP_BAD_REQUEST,
            ERROR_GENERIC,
            "Protocol version not supported",
            detail="protocol 3.3 is switched off (minSupportedProtocolVersion=4)",
        )
    return await handler(request)


def _http_error(err: web.HTTPException) -> tuple[int, str, str]:
    if err.status == HTTP_NOT_FOUND:
        return HTTP_NOT_FOUND, ERROR_NOT_FOUND, "Not found"
    if err.status == HTTP_PAYLOAD_TOO_LARGE:
        return HTTP_BAD_REQUEST, INVALID_REQUEST, "Request body too large"
    return err.status, ERROR_GENERIC, err.reason


@web.middleware
async def error_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as the reference error envelope."""
    try:
        return await handler(request)
    except ApiError as err:
        request[_ERROR_KEY] = f"{err.code}: {err.detail or err.message}"
        return json_response(error_body(err.code, err.message), err.status)
    except web.HTTPException as err:
        if err.status < HTTP_BAD_REQUEST:
            raise
        status, code, message = _http_error(err)
        request[_ERROR_KEY] = f"{code}: {message}"
        return json_response(error_body(code, message), status)
    except Exception:  # a bug must still answer in the envelope, and be logged
        _LOGGER.exception("unexpected error in %s %s", request.method, request.path)
        request[_ERROR_KEY] = f"{ERROR_GENERIC}: unexpected error"
        return json_response(error_body(ERROR_GENERIC, MSG_GENERIC), HTTP_INTERNAL_ERROR)


def create_app(emu: Emulator) -> web.Application:
    """The aiohttp application serving one emulator state."""
    app = web.Application(
        middlewares=[
            request_log,
            admin.loopback_only,
            fault_injection,
            error_envelope,
            protocol_gate,
        ],
        client_max_size=MAX_BODY_SIZE,
    )
    app[EMULATOR_KEY] = emu
    powerauth.add_routes(app)
    powerauth4.add_routes(app)
    upgrade.add_routes(app)
    operations.add_routes(app)
    inbox.add_routes(app)
    admin.add_routes(app)
    return app


@dataclass
class Server:
    """A running emulator on 127.0.0.1."""

    emu: Emulator
    runner: web.AppRunner
    url: str
    extras: dict[str, Any] = field(default_factory=dict)

    async def stop(self) -> None:
        """Stop listening, finish or cancel requests in flight, close the database."""
        await self.runner.cleanup()
        self.emu.db.close()


async def start_server(emu: Emulator, port: int = 0) -> Server:
    """Serve ``emu`` on 127.0.0.1 (port 0: any free port)."""
    runner = web.AppRunner(
        create_app(emu), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
    )
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return Server(emu, runner, f"http://{HOST}:{bound_port}")
