"""The emulator's protocol 4.0 switches: ``--protocol``, the admin switch, stored data."""

import sqlite3
from pathlib import Path

import aiohttp
import pytest

from emulator.__main__ import parse_args
from emulator.db import Database
from emulator.testing import AdminError, run_emulator
from mtoken.app_config import parse_config_string


async def _post(http: aiohttp.ClientSession, url: str, body: object) -> tuple[int, dict]:
    async with http.post(url, json=body) as response:
        return response.status, await response.json(content_type=None)


async def test_a_3_3_server_has_no_v4_endpoints(socket_enabled: None, tmp_path: Path) -> None:
    async with run_emulator(tmp_path, protocol="3.3") as emu, aiohttp.ClientSession() as http:
        status, body = await _post(http, f"{emu.url}/pa/v4/status", {})
        assert status == 404
        assert body["responseObject"]["code"] == "ERROR_NOT_FOUND"
        status, _ = await _post(http, f"{emu.url}/pa/v3/status", {})
        assert status == 200
        with pytest.raises(AdminError):
            await emu.admin.set_min_protocol(4)


async def test_a_4_0_server_refuses_3_3_and_tells_its_suites(
    socket_enabled: None, tmp_path: Path
) -> None:
    async with run_emulator(tmp_path, protocol="4.0") as emu, aiohttp.ClientSession() as http:
        status, body = await _post(http, f"{emu.url}/pa/v3/activation/create", {})
        assert status == 400
        assert body["responseObject"]["message"] == "Protocol version not supported"
        status, body = await _post(http, f"{emu.url}/pa/v4/status", {})
        assert status == 200
        suites = body["responseObject"]["supportedAlgorithms"]
        assert "EC_P384" in suites
        assert "EC_P256" not in suites
        assert parse_config_string(emu.app_config).speaks_v4


async def test_admin_switch_turns_3_3_off_and_on(socket_enabled: None, tmp_path: Path) -> None:
    async with run_emulator(tmp_path) as emu, aiohttp.ClientSession() as http:
        await emu.admin.set_min_protocol(4)
        status, _ = await _post(http, f"{emu.url}/pa/v3/keystore/create", {})
        assert status == 400
        await emu.admin.set_min_protocol(3)
        _, body = await _post(http, f"{emu.url}/pa/v4/status", {})
        assert body["responseObject"]["supportedAlgorithms"][0] == "EC_P256"
        with pytest.raises(AdminError):
            await emu.admin.set_min_protocol(5)


def test_protocol_option_defaults_to_both() -> None:
    assert parse_args([]).protocol == "both"
    assert parse_args(["--protocol", "4.0"]).protocol == "4.0"
    with pytest.raises(SystemExit):
        parse_args(["--protocol", "5.0"])


def test_data_from_before_4_0_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "emulator.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE activations (activation_id TEXT PRIMARY KEY)")
        old.execute(
            "CREATE TABLE temporary_keys (key_id TEXT PRIMARY KEY, app_key TEXT NOT NULL, "
            "activation_id TEXT, private_key BLOB NOT NULL, expires_ms INTEGER NOT NULL)"
        )
    Database(path).close()
    with sqlite3.connect(path) as opened:
        columns = {row[1] for row in opened.execute("PRAGMA table_info(activations)")}
        key_columns = {row[1] for row in opened.execute("PRAGMA table_info(temporary_keys)")}
    assert {"protocol_version", "algorithm", "utility_keys"} <= columns
    assert "version" in key_columns
