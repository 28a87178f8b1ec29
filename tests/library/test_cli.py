"""Every ``scripts/mtoken`` command end to end against the emulator on 127.0.0.1."""

import asyncio
import base64
import json
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import PIN, USER_ID, payment

MTOKEN = Path(__file__).parents[2] / "scripts" / "mtoken"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


async def mtoken(*args: str, stdin: str = "") -> Result:
    process = await asyncio.create_subprocess_exec(
        str(MTOKEN),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode())
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def state_file(emu: Any, tmp_path: Path) -> Path:
    """A state file holding an ACTIVE activation made by ``activate``."""
    path = tmp_path / "token.json"
    created = await emu.admin.create_activation_code(USER_ID)
    code = f"{created['activationCode']}#{created['activationSignature']}"
    result = await mtoken(
        "--state", str(path), "activate", "--server", emu.url, "--config", emu.app_config,
        "--code", code, "--pin", PIN, "--name", "CLI", "--biometry",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.json["status"] == "active"
    assert len(result.json["fingerprint"]) == 8
    return path


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.code != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert fragment in result.stderr


async def test_state_file_is_private_and_holds_no_pin(state_file: Path) -> None:
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    stored = json.loads(state_file.read_text())
    assert stored["activation"]["activationId"]
    assert PIN not in state_file.read_text()


async def test_status_operations_detail_and_approve_with_pin(emu: Any, state_file: Path) -> None:
    state = str(state_file)
    status = await mtoken("--state", state, "status")
    assert status.json["status"] == "active"
    assert status.json["remainingAttempts"] == 5

    created = await payment(emu)
    listed = await mtoken("--state", state, "operations")
    assert [op["id"] for op in listed.json] == [created["id"]]
    detail = await mtoken("--state", state, "detail", created["id"])
    assert detail.json["formData"]["title"] == "Payment"

    approved = await mtoken("--state", state, "approve", created["id"], "--pin", PIN)
    assert approved.code == 0, approved.stderr
    recorded = await emu.admin.get_operation(created["id"])
    assert (recorded["status"], recorded["signatureType"]) == ("APPROVED", "possession_knowledge")


async def test_approve_with_biometry_possession_and_totp(emu: Any, state_file: Path) -> None:
    state = str(state_file)
    two_factor = await payment(emu)
    one_factor = await payment(emu, allowedFactors=["possession"])
    proximity = await payment(emu, proximity=True)
    totp = await emu.admin.get_totp(proximity["id"])
    results = [
        await mtoken("--state", state, "approve", two_factor["id"], "--biometry"),
        await mtoken("--state", state, "approve", one_factor["id"], "--possession"),
        await mtoken("--state", state, "approve", proximity["id"], "--pin", PIN, "--totp", totp),
    ]
    assert [r.code for r in results] == [0, 0, 0], [r.stderr for r in results]
    for created in (two_factor, one_factor, proximity):
        assert (await emu.admin.get_operation(created["id"]))["status"] == "APPROVED"


async def test_wrong_pin_reports_attempts_and_keeps_state(emu: Any, state_file: Path) -> None:
    created = await payment(emu)
    before = json.loads(state_file.read_text())
    result = await mtoken("--state", str(state_file), "approve", created["id"], "--pin", "9999")
    assert_one_line_error(result, "attempts left: 4")
    after = json.loads(state_file.read_text())
    assert after["activation"]["activationId"] == before["activation"]["activationId"]
    assert after["activation"]["ctrData"] != before["activation"]["ctrData"]


async def test_blocked_activation_is_reported(emu: Any, state_file: Path) -> None:
    activation_id = json.loads(state_file.read_text())["activation"]["activationId"]
    await emu.admin.block(activation_id)
    status = await mtoken("--state", str(state_file), "status")
    assert status.json["status"] == "blocked"
    created = await payment(emu)
    result = await mtoken("--state", str(state_file), "approve", created["id"], "--pin", PIN)
    assert result.code != 0
    assert len(result.stderr.strip().splitlines()) == 1


async def test_reject_claim_and_history(emu: Any, state_file: Path) -> None:
    state = str(state_file)
    created = await payment(emu)
    rejected = await mtoken("--state", state, "reject", created["id"], "--reason", "INCORRECT_DATA")
    assert rejected.code == 0, rejected.stderr
    assert (await emu.admin.get_operation(created["id"]))["rejectReason"] == "INCORRECT_DATA"

    unclaimed = await payment(emu, userId=None)
    claimed = await mtoken("--state", state, "claim", unclaimed["id"])
    assert claimed.json["id"] == unclaimed["id"]

    history = await mtoken("--state", state, "history", "--pin", PIN)
    assert {op["id"]: op["status"] for op in history.json}[created["id"]] == "REJECTED"


async def test_finished_and_expired_operations(emu: Any, state_file: Path) -> None:
    state = str(state_file)
    created = await payment(emu)
    await mtoken("--state", state, "reject", created["id"])
    finished = await mtoken("--state", state, "approve", created["id"], "--pin", PIN)
    assert_one_line_error(finished, "OPERATION_ALREADY_FINISHED")

    expiring = await payment(emu, expiresInSeconds=1)
    await asyncio.sleep(1.2)
    expired = await mtoken("--state", state, "detail", expiring["id"])
    assert_one_line_error(expired, "OPERATION_EXPIRED")


async def test_counter_behind_is_resynchronised_by_status(emu: Any, state_file: Path) -> None:
    state = str(state_file)
    backup = state_file.read_text()
    for _ in range(3):
        created = await payment(emu)
        assert (await mtoken("--state", state, "reject", created["id"])).code == 0
    state_file.write_text(backup)
    assert (await mtoken("--state", state, "status")).json["status"] == "active"
    created = await payment(emu)
    result = await mtoken("--state", state, "approve", created["id"], "--pin", PIN)
    assert result.code == 0, result.stderr


async def test_concurrent_approvals_share_no_counter(emu: Any, state_file: Path) -> None:
    created = [await payment(emu) for _ in range(10)]
    results = await asyncio.gather(
        *(mtoken("--state", str(state_file), "approve", op["id"], "--biometry") for op in created)
    )
    assert [r.code for r in results] == [0] * 10, [r.stderr for r in results]
    for op in created:
        assert (await emu.admin.get_operation(op["id"]))["status"] == "APPROVED"


async def test_offline_qr_sign_and_parse(emu: Any, state_file: Path) -> None:
    created = await payment(emu)
    qr = await emu.admin.offline_qr(created["id"])
    parsed = await mtoken("qr", "parse", stdin=qr)
    assert parsed.json["operationId"] == created["id"]
    signed = await mtoken("--state", str(state_file), "qr", "sign", "--pin", PIN, stdin=qr)
    assert signed.code == 0, signed.stderr
    activation_id = json.loads(state_file.read_text())["activation"]["activationId"]
    assert await emu.admin.verify_offline(activation_id, created["id"], signed.json["code"])


async def test_bad_input_gives_one_line_errors(tmp_path: Path) -> None:
    assert_one_line_error(await mtoken("qr", "parse", stdin="not a qr code"), "mtoken:")
    assert_one_line_error(await mtoken("pac", "parse", stdin="hello"), "proximity")
    missing = await mtoken("--state", str(tmp_path / "none.json"), "status")
    assert_one_line_error(missing, "activate")
    bad_config = await mtoken(
        "--state", str(tmp_path / "x.json"), "activate", "--server", "http://127.0.0.1:9",
        "--config", "bm90IGEgY29uZmln", "--code", "AAAAA-AAAAA-AAAAA-AAAAA", "--pin", PIN,
    )  # fmt: skip
    assert_one_line_error(bad_config, "mtoken:")
    assert not (tmp_path / "x.json").exists()


async def test_pac_parse_qr_and_deeplink() -> None:
    deeplink = await mtoken(
        "pac", "parse", "--deeplink", stdin="mtoken://login?oid=op-1&potp=12345678"
    )
    assert deeplink.json == {"operationId": "op-1", "totp": "12345678"}
    payload = base64.urlsafe_b64encode(b'{"oid":"op-2","potp":"87654321"}').decode().rstrip("=")
    qr = await mtoken("pac", "parse", stdin=f"eyJhbGciOiJub25lIn0.{payload}.c2ln")
    assert qr.json == {"operationId": "op-2", "totp": "87654321"}


async def test_remove(emu: Any, state_file: Path) -> None:
    removed = await mtoken("--state", str(state_file), "remove", "--pin", PIN)
    assert removed.json["status"] == "removed"
    activations = await emu.admin.activations()
    assert activations[0]["status"] == "REMOVED"
    after = await mtoken("--state", str(state_file), "operations")
    assert_one_line_error(after, "activate")


async def run_on_terminal(args: list[str], typed: str) -> tuple[int, str]:
    """Run mtoken on a terminal (``script`` gives it one), type at its prompt."""
    command = shlex.join([str(MTOKEN), *args])
    process = await asyncio.create_subprocess_exec(
        "script", "--quiet", "--return", "--command", command, "/dev/null",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    shown = b""
    while b"PIN:" not in shown:
        chunk = await asyncio.wait_for(process.stdout.read(1024), timeout=30)
        assert chunk, shown
        shown += chunk
    process.stdin.write(typed.encode())
    await process.stdin.drain()
    shown += await asyncio.wait_for(process.stdout.read(), timeout=30)
    return await process.wait(), shown.decode(errors="replace")


async def test_missing_pin_is_asked_without_echo(emu: Any, state_file: Path) -> None:
    created = await payment(emu)
    code, shown = await run_on_terminal(
        ["--state", str(state_file), "approve", created["id"]], f"{PIN}\n"
    )
    assert code == 0, shown
    assert "PIN:" in shown
    assert PIN not in shown
    assert (await emu.admin.get_operation(created["id"]))["status"] == "APPROVED"


async def test_missing_pin_without_a_terminal_is_one_clear_line(emu: Any, state_file: Path) -> None:
    created = await payment(emu)
    result = await mtoken("--state", str(state_file), "approve", created["id"])
    assert_one_line_error(result, "--pin")


async def test_forget_an_activation_the_bank_removed(emu: Any, state_file: Path) -> None:
    activation_id = json.loads(state_file.read_text())["activation"]["activationId"]
    await emu.admin.remove(activation_id)
    refused = await mtoken("--state", str(state_file), "operations")
    assert_one_line_error(refused, "remove --forget")
    again = await mtoken("--state", str(state_file), "remove", "--pin", PIN)
    assert_one_line_error(again, "remove --forget")
    forgotten = await mtoken("--state", str(state_file), "remove", "--forget")
    assert forgotten.json == {"activationId": activation_id, "status": "forgotten"}
    created = await emu.admin.create_activation_code(USER_ID)
    activated = await mtoken(
        "--state", str(state_file), "activate", "--server", emu.url, "--config", emu.app_config,
        "--code", created["activationCode"], "--pin", PIN,
    )  # fmt: skip
    assert activated.code == 0, activated.stderr


async def test_activation_waiting_for_the_bank_says_so(emu: Any, tmp_path: Path) -> None:
    created = await emu.admin.create_activation_code(USER_ID, commit="manual")
    state = str(tmp_path / "pending.json")
    activated = await mtoken(
        "--state", state, "activate", "--server", emu.url, "--config", emu.app_config,
        "--code", created["activationCode"], "--pin", PIN,
    )  # fmt: skip
    assert activated.json["status"] == "pending_commit"
    history = await mtoken("--state", state, "history", "--pin", PIN)
    assert_one_line_error(history, "not confirmed")


async def test_approval_the_server_must_refuse_is_refused_locally(
    emu: Any, state_file: Path
) -> None:
    created = await payment(emu)
    result = await mtoken("--state", str(state_file), "approve", created["id"], "--possession")
    assert_one_line_error(result, "only with")
    assert (await emu.admin.get_operation(created["id"]))["failureCount"] == 0


async def test_unreachable_server_names_the_url(emu: Any, tmp_path: Path) -> None:
    created = await emu.admin.create_activation_code(USER_ID)
    result = await mtoken(
        "--state", str(tmp_path / "x.json"), "activate", "--server", "http://127.0.0.1:9",
        "--config", emu.app_config, "--code", created["activationCode"], "--pin", PIN,
    )  # fmt: skip
    assert_one_line_error(result, "Cannot reach the server at http://127.0.0.1:9")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(("choice", "expected"), [("auto", "4.0"), ("3.3", "3.3"), ("4.0", "4.0")])
async def test_activate_picks_the_protocol_and_status_prints_it(
    emu: Any, tmp_path: Path, choice: str, expected: str
) -> None:
    created = await emu.admin.create_activation_code(USER_ID)
    state = str(tmp_path / f"{choice}.json")
    activated = await mtoken(
        "--state", state, "activate", "--server", emu.url, "--config", emu.app_config,
        "--code", created["activationCode"], "--pin", PIN, "--protocol", choice,
    )  # fmt: skip
    assert activated.code == 0, activated.stderr
    assert activated.json["protocol"] == expected
    status = await mtoken("--state", state, "status")
    assert status.json["protocol"] == expected
    assert status.json["status"] == "active"
