"""Whole server answers as the client decodes them: HTTP bodies, the error envelope,
the stored activation, and the session's own decoding of status and time answers.

Every refusal is a MobileTokenError (InvalidStateError for a damaged stored
activation); nothing else escapes.
"""

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import given
from hypothesis import strategies as st

from mtoken import keys
from mtoken.app_config import AppConfig
from mtoken.encoding import b64decode, b64encode
from mtoken.errors import AuthenticationError, InvalidStateError, MobileTokenError, ServerError
from mtoken.http import Response, decode_body, envelope_error
from mtoken.session import PowerAuthSession
from mtoken.state import ActivationState
from mtoken.status import StatusBlob, encrypt_status_blob

from .support import dumps, fuzz, json_trees, refused_or

ENVELOPE_KEYS = st.sampled_from(["status", "responseObject", "code", "message", "serverTime"])
statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 500, 502, 503]) | st.integers(
    min_value=100, max_value=599
)
envelopes = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["OK", "ERROR"]) | json_trees(max_leaves=2),
        "responseObject": json_trees(ENVELOPE_KEYS, max_leaves=6),
    }
)
bodies = (
    st.binary(max_size=60)
    | json_trees(ENVELOPE_KEYS).map(dumps)
    | envelopes.map(dumps)
    | st.sampled_from([b"", b"null", b"{", b"\xff\xfe", b"NaN", b"[1e999]"])
)


@fuzz
@given(bodies, statuses)
def test_decode_body_returns_json_of_ok_answers_or_raises_typed_errors(
    raw: bytes, status: int
) -> None:
    try:
        body = decode_body(raw, status)
    except MobileTokenError as err:
        refusal: MobileTokenError | None = err
    else:
        refusal = None
    if isinstance(refusal, ServerError):
        assert refusal.http_status == status
        assert isinstance(refusal.code, str)
    elif refusal is None:
        assert status < 400
        assert json.dumps(body) == json.dumps(json.loads(raw) if raw else None)


@fuzz
@given(json_trees(ENVELOPE_KEYS) | envelopes, statuses)
def test_envelope_error_reads_any_json(body: Any, status: int) -> None:
    error = envelope_error(body, status)
    if error is None:
        assert not (isinstance(body, dict) and body.get("status") == "ERROR")
    else:
        assert isinstance(error.code, str)
        assert isinstance(error.server_message, str)
        assert isinstance(error, AuthenticationError) == (error.code == "POWERAUTH_AUTH_FAIL")


# --- the stored activation ----------------------------------------------------------------------

key16 = st.binary(min_size=16, max_size=16)


@st.composite
def activation_states(draw: st.DrawFn) -> ActivationState:
    """A state with random key material (the decoders never check keys against each other)."""
    with_token = draw(st.booleans())
    return ActivationState(
        activation_id=draw(st.uuids()).hex,
        server_public_key=keys.public_key_bytes(SERVER_KEY),
        device_public_key=draw(st.binary(min_size=33, max_size=33)),
        encrypted_device_private_key=draw(st.binary(min_size=48, max_size=48)),
        possession_key=draw(key16),
        encrypted_knowledge_key=draw(key16),
        knowledge_salt=draw(key16),
        transport_key=draw(key16),
        ctr_data=draw(key16),
        ctr_byte=draw(st.integers(min_value=0, max_value=255)),
        biometry_key=draw(st.none() | key16),
        token_id=str(draw(st.uuids())) if with_token else None,
        token_secret=draw(key16) if with_token else None,
    )


SERVER_KEY: Final = keys.generate_private_key()


@fuzz
@given(activation_states(), st.data())
def test_stored_activation_round_trips_and_damage_raises_invalid_state(
    state: ActivationState, data: st.DataObject
) -> None:
    stored = state.to_dict()
    assert ActivationState.from_dict(json.loads(json.dumps(stored))) == state
    key = data.draw(st.sampled_from(sorted(stored)) | st.text(max_size=5))
    if data.draw(st.booleans()):
        stored.pop(key, None)
    else:
        stored[key] = data.draw(json_trees(max_leaves=4) | st.binary(max_size=20).map(b64encode))
    restored = refused_or(ActivationState.from_dict, stored, error=InvalidStateError)
    if restored is not None:
        assert isinstance(restored.activation_id, str)
        assert ActivationState.from_dict(restored.to_dict()) == restored


@fuzz
@given(json_trees(st.sampled_from(["version", "activationId", "ctrData", "ctrByte"])))
def test_stored_activation_random_json_raises_invalid_state(value: Any) -> None:
    refused_or(ActivationState.from_dict, value, error=InvalidStateError)


# --- the session decoding answers -----------------------------------------------------------------

CONFIG: Final = AppConfig(
    app_key=b64encode(bytes(range(1, 17))),
    app_secret=b64encode(bytes(range(2, 18))),
    master_public_key=keys.public_key_bytes(SERVER_KEY),
)

Answer = Callable[[str, Mapping[str, Any]], tuple[bytes, int]]


@dataclass
class FakeTransport:
    """Answers every POST with what ``answer`` builds from the path and the request JSON."""

    answer: Answer
    language: str = "en"

    async def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Response:
        raw, status = self.answer(path, json.loads(body))
        return Response(decode_body(raw, status), 0, 0)


def _session(state: ActivationState, answer: Answer) -> PowerAuthSession:
    session = PowerAuthSession(None, "http://server.invalid", CONFIG, state=state)  # type: ignore[arg-type]
    session.transport = FakeTransport(answer)  # type: ignore[assignment]
    return session


@st.composite
def status_answers(draw: st.DrawFn, state: ActivationState) -> Answer:
    """A status answer: a genuine blob for the request's challenge, or a damaged envelope."""
    blob = StatusBlob(
        status=draw(st.integers(min_value=0, max_value=255)),
        current_version=3,
        upgrade_version=3,
        ctr_byte=draw(st.integers(min_value=0, max_value=255)),
        failed_attempts=draw(st.integers(min_value=0, max_value=255)),
        max_failed_attempts=draw(st.integers(min_value=0, max_value=255)),
        look_ahead=draw(st.integers(min_value=0, max_value=30)),
        ctr_data_hash=draw(key16),
    )
    damage = draw(st.none() | st.sampled_from(["encryptedStatusBlob", "nonce", "status"]))
    damaged_value = draw(json_trees(max_leaves=3) | st.binary(max_size=40).map(b64encode))
    other = draw(bodies), draw(statuses)

    def answer(path: str, request: Mapping[str, Any]) -> tuple[bytes, int]:
        if not path.endswith("/activation/status"):
            return other  # the counter resynchronisation's signature validation
        challenge = b64decode(request["requestObject"]["challenge"])
        nonce = secrets.token_bytes(16)
        encrypted = encrypt_status_blob(state.transport_key, challenge, nonce, blob)
        payload = {
            "activationId": state.activation_id,
            "encryptedStatusBlob": b64encode(encrypted),
            "nonce": b64encode(nonce),
        }
        envelope: dict[str, Any] = {"status": "OK", "responseObject": payload}
        if damage == "status":
            envelope["status"] = damaged_value
        elif damage is not None:
            payload[damage] = damaged_value
        return dumps(envelope), 200

    return answer


@fuzz
@given(activation_states(), st.data())
async def test_session_status_answers_decode_or_raise_typed_errors(
    state: ActivationState, data: st.DataObject
) -> None:
    session = _session(state, data.draw(status_answers(state)))
    try:
        info = await session.fetch_status()
    except MobileTokenError:
        return
    assert info.status in {"created", "pending_commit", "active", "blocked", "removed"}
    assert info.remaining_attempts >= 0


@fuzz
@given(activation_states(), bodies, statuses)
async def test_session_time_answers_decode_or_raise_typed_errors(
    state: ActivationState, raw: bytes, status: int
) -> None:
    session = _session(state, lambda _path, _request: (raw, status))
    try:
        server_time = await session.server_time()
    except MobileTokenError:
        return
    assert isinstance(server_time, int)
