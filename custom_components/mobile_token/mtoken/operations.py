"""The Mobile Token API client (mobile-token-api.md sections 1, 3, 4 and 6).

List, detail and claim travel with the ``possession_universal`` token; history,
authorize and reject are signed. Every call goes through the one session, so
the counter and the server-time offset stay in one place.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from .app_config import KEY_ID_P384
from .dates import format_datetime_z, parse_datetime
from .errors import (
    BadResponseError,
    InvalidInputError,
    InvalidQrCodeError,
    InvalidQrSignatureError,
    InvalidStateError,
)
from .factors import Authentication, Factor
from .http import Response, response_object
from .keys import verify_server_signed_data
from .model import (
    Operation,
    OperationListParser,
    ProximityCheck,
    parse_operation,
    parse_operation_list,
)
from .offline4 import verify_master_signature
from .qr import URI_ID_OFFLINE_AUTHORIZE, QrOperation, offline_signature_body
from .session4 import PROTOCOL_VERSION as PROTOCOL_V4
from .sessions import AnySession

PATH_LIST: Final = "/api/auth/token/app/operation/list"
PATH_DETAIL: Final = "/api/auth/token/app/operation/detail"
PATH_CLAIM: Final = "/api/auth/token/app/operation/detail/claim"
PATH_HISTORY: Final = "/api/auth/token/app/operation/history"
PATH_AUTHORIZE: Final = "/api/auth/token/app/operation/authorize"
PATH_REJECT: Final = "/api/auth/token/app/operation/cancel"
PATH_PUSH_REGISTER: Final = "/api/push/device/register/token"

URI_ID_HISTORY: Final = "/operation/history"
URI_ID_AUTHORIZE: Final = "/operation/authorize"
URI_ID_REJECT: Final = "/operation/cancel"

# currentTimestamp has whole seconds (yyyy-MM-dd'T'HH:mm:ssZ).
CURRENT_TIMESTAMP_RESOLUTION_MS: Final = 1000
# Lists with more new operations than this are parsed off the event loop.
PARSE_INLINE_MAX: Final = 20
REJECT_REASONS: Final = ("UNKNOWN", "INCORRECT_DATA", "UNEXPECTED_OPERATION")


class MobileTokenClient:
    """Operations of one activation, as the Mobile Token SDK offers them."""

    def __init__(self, session: AnySession) -> None:
        self.session = session
        self._list_parser = OperationListParser()

    async def list_operations(self) -> list[Operation]:
        """Pending operations, newest first as the server orders them."""
        response = await self.session.token_post(PATH_LIST, {})
        self._learn_server_time(response)
        listed = response_object(response.body)
        if self._list_parser.unknown_count(listed) > PARSE_INLINE_MAX:
            # Parsing costs tens of microseconds an operation: keep the loop free.
            result: list[Operation] = await self.session.run_blocking(
                lambda: self._list_parser.parse(listed)
            )
            return result
        return self._list_parser.parse(listed)

    async def get_operation(self, operation_id: str) -> Operation:
        """One operation with everything the server tells about it."""
        return await self._token_operation(PATH_DETAIL, operation_id)

    async def claim_operation(self, operation_id: str) -> Operation:
        """Make a non-personalised operation (e.g. from a QR code) this user's."""
        return await self._token_operation(PATH_CLAIM, operation_id)

    async def history(self, auth: Authentication) -> list[Operation]:
        """Recent operations in every status (needs two factors)."""
        if auth.factor is Factor.POSSESSION:
            raise InvalidStateError("The operation history needs the PIN or approval without PIN")
        body = await self.session.signed_post(PATH_HISTORY, URI_ID_HISTORY, {}, auth)
        return parse_operation_list(response_object(body))

    async def authorize(
        self,
        operation: Operation,
        auth: Authentication,
        *,
        proximity: ProximityCheck | None = None,
        mobile_token_data: Mapping[str, Any] | None = None,
    ) -> None:
        """Approve an operation; its data is signed exactly as the server sent it.

        Approvals the server is sure to refuse are refused here first: each
        refusal there counts towards the operation's failure limit.
        ``mobile_token_data`` (SDK 2.1+) goes along for the bank's fraud detection.
        """
        if not operation.allows(auth.factor):
            allowed = ", ".join(operation.allowed_signature.factors)
            raise InvalidInputError(f"This operation can be approved only with: {allowed}")
        if operation.requires_proximity_check and proximity is None:
            raise InvalidInputError(
                "This operation needs the proximity code the bank shows (its QR code or link)"
            )
        request: dict[str, Any] = {"id": operation.id, "data": operation.data}
        if proximity is not None:
            request["proximityCheck"] = {
                "otp": proximity.totp,
                "type": str(proximity.type),
                "timestampReceived": format_datetime_z(proximity.timestamp_received),
                "timestampSent": format_datetime_z(self.session.clock.now()),
            }
        if mobile_token_data is not None:
            request["mobileTokenData"] = dict(mobile_token_data)
        body = {"requestObject": request}
        response_object(
            await self.session.signed_post(PATH_AUTHORIZE, URI_ID_AUTHORIZE, body, auth)
        )

    async def reject(
        self,
        operation_id: str,
        reason: str,
        *,
        mobile_token_data: Mapping[str, Any] | None = None,
    ) -> None:
        """Reject an operation with a reason (possession signature).

        ``mobile_token_data`` goes along as SDK 3.0 sends it, next to the reason.
        """
        request: dict[str, Any] = {"id": operation_id, "reason": reason}
        if mobile_token_data is not None:
            request["mobileTokenData"] = dict(mobile_token_data)
        body = {"requestObject": request}
        response_object(
            await self.session.signed_post(
                PATH_REJECT, URI_ID_REJECT, body, Authentication.possession()
            )
        )

    async def register_push(self, platform: str, token: str) -> None:
        """Register a push token so the server can announce new operations."""
        body = {"requestObject": {"platform": platform, "token": token}}
        response_object((await self.session.token_post(PATH_PUSH_REGISTER, body)).body)

    def verify_offline_qr(self, qr: QrOperation) -> None:
        """Refuse a QR operation whose ECDSA signature is not the bank's."""
        if self.session.protocol_version == PROTOCOL_V4:
            master = self.session.config.master_key(KEY_ID_P384)
            if qr.signing_key != "master" or master is None:
                raise InvalidQrCodeError("The QR code is not signed for protocol 4.0")
            if not verify_master_signature(master, qr.signed_data, qr.signature):
                raise InvalidQrSignatureError(
                    "The QR code is not signed by the bank: do not approve it"
                )
            return
        if qr.signing_key == "master":
            signer = self.session.config.master_public_key
        else:
            signer = self.session.state.server_public_key
        if not verify_server_signed_data(signer, qr.signed_data, qr.signature):
            raise InvalidQrSignatureError(
                "The QR code is not signed by the bank: do not approve it"
            )

    async def sign_offline_qr(
        self, qr: QrOperation, auth: Authentication, *, uri_id: str | None = None
    ) -> str:
        """The approval code to type back where the QR code was shown.

        A wrong PIN still yields a code; the bank refuses it when it is typed in.
        """
        self.verify_offline_qr(qr)
        if auth.factor is Factor.POSSESSION:
            raise InvalidStateError("Offline approval needs the PIN or approval without PIN")
        if auth.factor is Factor.POSSESSION_BIOMETRY and not qr.flags.biometry:
            raise InvalidStateError("This QR operation must be approved with the PIN")
        return await self.session.offline_signature(
            auth, uri_id or URI_ID_OFFLINE_AUTHORIZE, offline_signature_body(qr), qr.nonce
        )

    async def _token_operation(self, path: str, operation_id: str) -> Operation:
        response = await self.session.token_post(path, {"requestObject": {"id": operation_id}})
        self._learn_server_time(response)
        return parse_operation(response_object(response.body))

    def _learn_server_time(self, response: Response) -> None:
        """``currentTimestamp`` + rtt/2 gives the server's clock (section 6)."""
        if not isinstance(response.body, dict) or "currentTimestamp" not in response.body:
            return
        try:
            current: datetime = parse_datetime(response.body["currentTimestamp"])
        except BadResponseError:
            return
        self.session.clock.update(
            int(current.timestamp() * 1000),
            sent_ms=response.sent_ms,
            received_ms=response.received_ms,
            resolution_ms=CURRENT_TIMESTAMP_RESOLUTION_MS,
        )
