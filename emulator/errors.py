"""The reference error envelope and the errors every endpoint can answer with.

``{"status": "ERROR", "responseObject": {"code", "message"}}``: 400 for
business errors and bad input, 401 for authentication failures (the
PowerAuth standard RESTful API and the enrollment server's Mobile Token API
both answer that way). Handlers raise ApiError; one middleware renders it.
"""

from typing import Any, Final

HTTP_BAD_REQUEST: Final = 400
HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_PAYLOAD_TOO_LARGE: Final = 413
HTTP_INTERNAL_ERROR: Final = 500

# Mobile Token API codes (mobile-token-api.md section 3).
ERROR_GENERIC: Final = "ERROR_GENERIC"
ERROR_NOT_FOUND: Final = "ERROR_NOT_FOUND"
POWERAUTH_AUTH_FAIL: Final = "POWERAUTH_AUTH_FAIL"
INVALID_REQUEST: Final = "INVALID_REQUEST"
INVALID_OPERATION: Final = "INVALID_OPERATION"
OPERATION_ALREADY_FINISHED: Final = "OPERATION_ALREADY_FINISHED"
OPERATION_ALREADY_FAILED: Final = "OPERATION_ALREADY_FAILED"
OPERATION_ALREADY_CANCELED: Final = "OPERATION_ALREADY_CANCELED"
OPERATION_EXPIRED: Final = "OPERATION_EXPIRED"
OPERATION_FAILED: Final = "OPERATION_FAILED"

# PowerAuth standard RESTful API codes (powerauth-restful-integration).
ERR_ACTIVATION: Final = "ERR_ACTIVATION"
ERR_ENCRYPTION: Final = "ERR_ENCRYPTION"
ERR_SECURE_VAULT: Final = "ERR_SECURE_VAULT"
ERR_TEMPORARY_KEY: Final = "ERR_TEMPORARY_KEY"

MSG_AUTH_FAIL: Final = "Signature validation failed"
MSG_TOKEN_FAIL: Final = "Token validation failed"
MSG_INVALID_REQUEST: Final = "Invalid request object sent to Mobile Token API component."
MSG_ACTIVATION: Final = "POWER_AUTH_ACTIVATION_INVALID"
MSG_ENCRYPTION: Final = "POWER_AUTH_ENCRYPTION_FAILED"
MSG_SECURE_VAULT: Final = "POWER_AUTH_SECURE_VAULT_INVALID"
MSG_TEMPORARY_KEY: Final = "POWER_AUTH_TEMPORARY_KEY_FAILURE"
MSG_GENERIC: Final = "Unknown error occurred while processing request."


class ApiError(Exception):
    """An answer in the error envelope; ``detail`` goes to the log only."""

    def __init__(self, status: int, code: str, message: str, *, detail: str = "") -> None:
        super().__init__(f"{code}: {detail or message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


def error_body(code: str, message: str) -> dict[str, Any]:
    """The reference error envelope."""
    return {"status": "ERROR", "responseObject": {"code": code, "message": message}}


def ok_body(response_object: Any = None, **extra: Any) -> dict[str, Any]:
    """The OK envelope; ``responseObject`` omitted when None (as the server omits nulls)."""
    body: dict[str, Any] = {"status": "OK", **extra}
    if response_object is not None:
        body["responseObject"] = response_object
    return body


def auth_failed(detail: str = "", message: str = MSG_AUTH_FAIL) -> ApiError:
    """401 POWERAUTH_AUTH_FAIL: a signature or token that does not verify."""
    return ApiError(HTTP_UNAUTHORIZED, POWERAUTH_AUTH_FAIL, message, detail=detail)


def invalid_request(detail: str = "") -> ApiError:
    """400 INVALID_REQUEST: a body the Mobile Token API cannot read."""
    return ApiError(HTTP_BAD_REQUEST, INVALID_REQUEST, MSG_INVALID_REQUEST, detail=detail)


def activation_error(detail: str = "") -> ApiError:
    """400 ERR_ACTIVATION (activation create and status)."""
    return ApiError(HTTP_BAD_REQUEST, ERR_ACTIVATION, MSG_ACTIVATION, detail=detail)


def encryption_error(detail: str = "") -> ApiError:
    """400 ERR_ENCRYPTION: an ECIES envelope that does not open or is stale."""
    return ApiError(HTTP_BAD_REQUEST, ERR_ENCRYPTION, MSG_ENCRYPTION, detail=detail)


def temporary_key_error(detail: str = "") -> ApiError:
    """400 ERR_TEMPORARY_KEY: an unknown, expired or mismatched temporary key."""
    return ApiError(HTTP_BAD_REQUEST, ERR_TEMPORARY_KEY, MSG_TEMPORARY_KEY, detail=detail)


def vault_error(detail: str = "") -> ApiError:
    """400 ERR_SECURE_VAULT: a vault unlock request that cannot be served."""
    return ApiError(HTTP_BAD_REQUEST, ERR_SECURE_VAULT, MSG_SECURE_VAULT, detail=detail)


def operation_error(code: str, message: str, status: int = HTTP_BAD_REQUEST) -> ApiError:
    """An operation business error (400 unless told otherwise)."""
    return ApiError(status, code, message)


def not_found(what: str) -> ApiError:
    """404 for the admin API."""
    return ApiError(HTTP_NOT_FOUND, ERROR_NOT_FOUND, f"{what} not found")
