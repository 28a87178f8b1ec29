"""Run the emulator inside a test's event loop and drive its admin API.

``async with run_emulator(data_dir) as emu:`` serves on 127.0.0.1 (a free
port) in the current loop; ``emu.admin`` mirrors the admin API;
``await emu.restart()`` stops and starts it again on the same port and data
directory (state survives in SQLite); leaving the block stops everything, so
no task, timer or thread outlives the test.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from .app import Server, start_server
from .context import PROTOCOL_CHOICES, Emulator
from .demo import Demo

# The operation data of create_payment: amount, account, date and note.
SAMPLE_PAYMENT_DATA = "A1*A100CZK*Q238400856/0300**D20170629*NUtility Bill"


class AdminError(Exception):
    """The admin API refused a request."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"admin API answered HTTP {status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    """Async client of the admin API (one aiohttp session, closed with the emulator)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http: aiohttp.ClientSession | None = None

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        async with self._http.request(method, f"{self.url}{path}", json=body) as response:
            data = await response.json(content_type=None)
            if response.status >= 300:
                raise AdminError(response.status, data)
            return data

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def create_activation_code(self, user_id: str, **options: Any) -> dict[str, Any]:
        """A new activation code for ``user_id`` (options: ``commit``, ``maxFailedAttempts``)."""
        result: dict[str, Any] = await self._request(
            "POST", "/admin/activation-code", {"userId": user_id, **options}
        )
        return result

    async def activations(self) -> list[dict[str, Any]]:
        """Every activation past the key exchange."""
        result: list[dict[str, Any]] = await self._request("GET", "/admin/activations")
        return result

    async def _activation_action(self, activation_id: str, action: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._request(
            "POST", f"/admin/activations/{activation_id}/{action}", {}
        )
        return result

    async def block(self, activation_id: str) -> dict[str, Any]:
        """Block an ACTIVE activation."""
        return await self._activation_action(activation_id, "block")

    async def unblock(self, activation_id: str) -> dict[str, Any]:
        """Unblock a BLOCKED activation (failed attempts reset)."""
        return await self._activation_action(activation_id, "unblock")

    async def commit(self, activation_id: str) -> dict[str, Any]:
        """Commit a PENDING_COMMIT activation."""
        return await self._activation_action(activation_id, "commit")

    async def remove(self, activation_id: str) -> dict[str, Any]:
        """Remove an activation."""
        return await self._activation_action(activation_id, "remove")

    async def create_operation(self, **fields: Any) -> dict[str, Any]:
        """A new operation from admin API fields (``userId``, ``name``, ``data``, ...)."""
        result: dict[str, Any] = await self._request("POST", "/admin/operations", fields)
        return result

    async def create_payment(self, user_id: str | None, **overrides: Any) -> dict[str, Any]:
        """A 2FA payment of 100 CZK for ``user_id``; ``overrides`` replace admin API fields."""
        fields: dict[str, Any] = {
            "userId": user_id,
            "name": "authorize_payment",
            "data": SAMPLE_PAYMENT_DATA,
            "title": "Payment",
            "message": "Please confirm the payment",
            "attributes": [
                {
                    "type": "AMOUNT",
                    "id": "operation.amount",
                    "label": "Amount",
                    "amount": 100,
                    "currency": "CZK",
                },
            ],
            "allowedFactors": ["possession_knowledge", "possession_biometry"],
            "expiresInSeconds": 300,
            "proximity": False,
        }
        return await self.create_operation(**(fields | overrides))

    async def get_operation(self, operation_id: str) -> dict[str, Any]:
        """An operation with its server-side state."""
        result: dict[str, Any] = await self._request("GET", f"/admin/operations/{operation_id}")
        return result

    async def get_totp(self, operation_id: str) -> str:
        """The current proximity TOTP of an operation."""
        result = await self._request("GET", f"/admin/operations/{operation_id}/totp")
        return str(result["totp"])

    async def offline_qr(
        self,
        operation_id: str,
        signing_key: str = "master",
        activation_id: str | None = None,
        protocol: str | None = None,
    ) -> str:
        """A signed offline QR text for an operation (``protocol="4.0"``: P-384 master key)."""
        body: dict[str, Any] = {"signingKey": signing_key}
        if activation_id is not None:
            body["activationId"] = activation_id
        if protocol is not None:
            body["protocol"] = protocol
        result = await self._request("POST", f"/admin/operations/{operation_id}/offline-qr", body)
        return str(result["qr"])

    async def verify_offline(
        self, activation_id: str, operation_id: str, code: str, uri_id: str | None = None
    ) -> bool:
        """Check an offline approval code (a valid one approves the operation)."""
        body: dict[str, Any] = {
            "activationId": activation_id,
            "operationId": operation_id,
            "code": code,
        }
        if uri_id is not None:
            body["uriId"] = uri_id
        result = await self._request("POST", "/admin/verify-offline", body)
        return bool(result["valid"])

    async def set_min_protocol(self, version: int) -> None:
        """Accept only 4.0 (``4``) or both generations again (``3``)."""
        await self._request("POST", "/admin/protocols", {"minSupportedProtocolVersion": version})

    async def add_message(
        self, user_id: str, subject: str, *, summary: str = "", body: str = "", type_: str = "text"
    ) -> dict[str, Any]:
        """A new unread inbox message for a user."""
        result: dict[str, Any] = await self._request(
            "POST",
            "/admin/inbox",
            {
                "userId": user_id,
                "subject": subject,
                "summary": summary,
                "body": body,
                "type": type_,
            },
        )
        return result

    async def fault(self, kind: str, count: int = 1, value: float | None = None) -> None:
        """Arm a fault for the next ``count`` non-admin requests."""
        body: dict[str, Any] = {"kind": kind, "count": count}
        if value is not None:
            body["value"] = value
        await self._request("POST", "/admin/faults", body)


class RunningEmulator:
    """A started emulator: its URL, configuration and admin client."""

    def __init__(self, data_dir: Path, *, demo: bool = False, protocol: str = "both") -> None:
        self.data_dir = data_dir
        self.demo_enabled = demo
        self.protocols = PROTOCOL_CHOICES[protocol]
        self._server: Server | None = None
        self._demo: Demo | None = None
        self.admin = AdminClient("")
        self.url = ""
        self.demo_activation: dict[str, Any] | None = None

    @property
    def emulator(self) -> Emulator:
        """The running state (database, clock, faults)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.emu

    @property
    def app_config(self) -> str:
        """The SDK configuration string (with the 4.0 master keys only while 4.0 is served)."""
        return self.emulator.config_string

    @property
    def app_key(self) -> str:
        """The application key (Base64)."""
        return self.emulator.application.app_key

    @property
    def app_secret(self) -> str:
        """The application secret (Base64)."""
        return self.emulator.application.app_secret

    @property
    def master_public_key(self) -> str:
        """The master server public key (Base64, uncompressed)."""
        return str(self.emulator.application.config.master_public_key_b64)

    async def start(self, port: int = 0) -> None:
        """Open the data directory and serve it."""
        emu = Emulator.open(self.data_dir)
        emu.protocols = self.protocols
        try:
            self._server = await start_server(emu, port)
        except OSError:
            emu.db.close()
            raise
        self.url = self._server.url
        self.admin.url = self.url
        if self.demo_enabled:
            self._demo = Demo(emu)
            self.demo_activation = self._demo.prepare()
            self._demo.start()

    async def stop(self) -> None:
        """Stop the demo, the server and the admin client; close the database."""
        if self._demo is not None:
            await self._demo.stop()
            self._demo = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        await self.admin.close()

    async def restart(self) -> None:
        """Stop and start again on the same port and data directory."""
        port = int(self.url.rsplit(":", 1)[1])
        await self.stop()
        await self.start(port)


@asynccontextmanager
async def run_emulator(
    data_dir: Path, *, demo: bool = False, port: int = 0, protocol: str = "both"
) -> AsyncIterator[RunningEmulator]:
    """Run an emulator on 127.0.0.1 for the duration of the block."""
    running = RunningEmulator(data_dir, demo=demo, protocol=protocol)
    await running.start(port)
    try:
        yield running
    finally:
        await running.stop()
