"""One typed hierarchy for everything the library can refuse or fail at.

Callers (the CLI, the Home Assistant integration) map these classes to what a
user sees, so each class names a situation a user can act on, and each
message says what to do next. Secrets never go into a message.
"""


class MobileTokenError(Exception):
    """Base class: anything the library raises on purpose."""


class NetworkError(MobileTokenError):
    """The server could not be reached or the connection broke."""


class RequestTimeoutError(NetworkError):
    """The server did not answer in time."""


class BadResponseError(MobileTokenError):
    """The server answered with something the protocol does not allow.

    Covers non-JSON bodies, missing or mistyped fields, a wrong ECIES MAC and
    a JWT or ECDSA signature that does not verify.
    """

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class InvalidActivationIdError(BadResponseError):
    """The server's activation id is not a UUID, the only form PowerAuth issues.

    Callers key files and entries by the id, so anything else is refused
    before it can become part of a path.
    """


class ServerError(MobileTokenError):
    """The server answered with the PowerAuth error envelope."""

    def __init__(self, code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.server_message = message
        self.http_status = http_status


class AuthenticationError(ServerError):
    """The server refused a signature or token (POWERAUTH_AUTH_FAIL).

    After a refused PIN the session reads the activation status and fills in
    ``remaining_attempts``, so the user learns how many tries are left.
    """

    remaining_attempts: int | None = None


class ActivationError(MobileTokenError):
    """The activation can no longer be used as it is."""


class ActivationBlockedError(ActivationError):
    """The server blocked the activation (too many wrong PINs, or the bank)."""


class ActivationRemovedError(ActivationError):
    """The server no longer knows the activation: it has to be created again."""


class InvalidStateError(MobileTokenError):
    """The local session cannot do what was asked (no activation, no biometry key, ...)."""


class CounterDesyncError(InvalidStateError):
    """The local signature counter cannot be brought back in line with the server."""


class CounterAheadError(InvalidStateError):
    """The counter ran too far past what the server confirmed, and the server is out of reach.

    Offline signatures and requests the server never answered move the
    counter without the server knowing; past half its look-ahead window the
    token must resynchronise with the server before it signs again.
    """


class StateNotSavedError(MobileTokenError):
    """The new counter could not be written durably, so nothing was signed or sent.

    Raised by a persistence callback that cannot write now (for example while
    its host is stopping) rather than letting a request leave unsaved.
    """


class InvalidInputError(MobileTokenError, ValueError):
    """Something a user typed or pasted is not valid."""


class InvalidActivationCodeError(InvalidInputError):
    """The activation code is malformed or its checksum does not match."""


class InvalidActivationCodeSignatureError(InvalidInputError):
    """The activation code's signature was not made by the bank's master key."""


class InvalidConfigurationError(InvalidInputError):
    """The application configuration (string or separate values) is not valid."""


class InvalidQrCodeError(InvalidInputError):
    """The text is not a valid offline QR operation."""


class InvalidQrSignatureError(InvalidQrCodeError):
    """The QR operation reads well but is not signed by the bank: a forgery."""


class InvalidProximityCodeError(InvalidInputError):
    """The text is not a valid proximity (PAC) QR code or deeplink."""


class InvalidPinError(InvalidInputError):
    """The PIN does not meet the minimal rules (digits, length)."""


SERVER_ERROR_HINTS = {
    "ERR_TEMPORARY_KEY": (
        "the server refused the application's keys: check the configuration string"
        " (or the activation is no longer active)"
    ),
    "ERR_ACTIVATION": (
        "the activation was refused: the code may be used or expired; ask for a new one"
    ),
    "ACTIVATION_CODE_FAILED": "the activation code was refused: ask the bank for a new one",
    "ERROR_NOT_FOUND": "the server has no such endpoint: check the server URL",
    "INVALID_REQUEST": "the server could not read the request: check the operation id",
    "INVALID_OPERATION": "no such operation for this user: check the operation id",
    "OPERATION_FAILED": "the approval was refused (wrong proximity code or factor?)",
    "OPERATION_EXPIRED": "the operation expired: ask for a new one",
    "OPERATION_ALREADY_FINISHED": "the operation was already approved or rejected",
    "OPERATION_ALREADY_CANCELED": "the operation was canceled",
    "OPERATION_ALREADY_FAILED": "the operation failed too many times: ask for a new one",
    "TOO_MANY_REQUESTS": "the server asks to slow down: try again in a while",
}


def server_error_hint(code: str) -> str | None:
    """What a user can do about a server error code (mobile-token-api.md section 3)."""
    return SERVER_ERROR_HINTS.get(code)
