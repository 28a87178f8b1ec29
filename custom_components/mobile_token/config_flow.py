"""Config flow: connect to the bank's server and activate Home Assistant as a mobile token.

The flow runs the activation itself. The activation secrets stay in memory
until the entry is created, then go to the private store keyed by the
activation id (the entry's unique id); they never touch the config entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_address
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    CONF_LANGUAGE,
    CONF_NAME,
    CONF_PIN,
    CONF_SCAN_INTERVAL,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    LanguageSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from yarl import URL

from .const import (
    CONF_ACTIVATION_CODE,
    CONF_ACTIVATION_ID,
    CONF_ALLOW_BIOMETRY,
    CONF_ALLOWED_USERS,
    CONF_APP_CONFIG,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_APP_VALUES,
    CONF_CALL_SENSORS,
    CONF_MASTER_PUBLIC_KEY,
    CONF_PIN_CONFIRM,
    DEFAULT_ACTIVATION_NAME,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    REQUEST_TIMEOUT,
    STATUS_ACTIVE,
    STATUS_PENDING_COMMIT,
    STATUS_REMOVED,
)
from .coordinator import MobileTokenConfigEntry
from .mtoken.activation_code import parse_activation_code
from .mtoken.app_config import (
    AppConfig,
    build_config_string,
    config_from_values,
    parse_config_string,
)
from .mtoken.errors import (
    BadResponseError,
    InvalidActivationCodeError,
    InvalidActivationCodeSignatureError,
    InvalidActivationIdError,
    InvalidConfigurationError,
    InvalidPinError,
    InvalidStateError,
    NetworkError,
    ServerError,
)
from .mtoken.factors import check_pin
from .mtoken.session import ActivationResult
from .mtoken.sessions import AnySession, open_session, session_for_activation
from .store import ActivationStore

_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))

# The example address in the URL help and error; Home Assistant keeps URLs out of translations.
URL_PLACEHOLDERS: Final = {"example_url": "https://bank.example/enrollment-server"}

# The field a form error is shown under; the other errors concern the whole form.
ERROR_FIELDS: Final = {
    "invalid_url": CONF_URL,
    "insecure_url": CONF_URL,
    "invalid_activation_code": CONF_ACTIVATION_CODE,
    "invalid_code_signature": CONF_ACTIVATION_CODE,
    "pin_too_short": CONF_PIN,
    "pin_mismatch": CONF_PIN_CONFIRM,
}
BASE: Final = "base"

STEP_USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        vol.Optional(CONF_APP_CONFIG): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Required(CONF_APP_VALUES): section(
            vol.Schema(
                {
                    vol.Optional(CONF_APP_KEY): _TEXT,
                    vol.Optional(CONF_APP_SECRET): _PASSWORD,
                    vol.Optional(CONF_MASTER_PUBLIC_KEY): _TEXT,
                }
            ),
            {"collapsed": True},
        ),
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
    }
)

STEP_ACTIVATE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ACTIVATION_CODE): _TEXT,
        vol.Required(CONF_NAME, default=DEFAULT_ACTIVATION_NAME): _TEXT,
        vol.Required(CONF_PIN): _PASSWORD,
        vol.Required(CONF_PIN_CONFIRM): _PASSWORD,
        vol.Required(CONF_ALLOW_BIOMETRY, default=False): BooleanSelector(),
    }
)

STEP_RECONFIGURE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        vol.Required(CONF_VERIFY_SSL): BooleanSelector(),
        vol.Required(CONF_NAME): _TEXT,
    }
)


def normalize_url(text: str) -> str:
    """Return the base URL without a trailing slash; raise ValueError unless http(s)."""
    url = URL(text.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(text)
    return str(url).rstrip("/")


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address can only be this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_error(text: str) -> str | None:
    """Return the form error of a server URL, or None when it may be used.

    Without TLS anyone on the way can rewrite what an operation shows while
    the signed data stays theirs: plain http is only for this machine.
    """
    try:
        url = URL(normalize_url(text))
    except ValueError:
        return "invalid_url"
    if url.scheme == "http" and not is_loopback_host(url.host or ""):
        return "insecure_url"
    return None


def form_errors(error: str) -> dict[str, str]:
    """Put a form error key under the field it concerns, or under the whole form."""
    return {ERROR_FIELDS.get(error, BASE): error}


def config_string_of(user_input: Mapping[str, Any]) -> str:
    """The configuration string the user pasted, or empty when the separate values are used."""
    return str(user_input.get(CONF_APP_CONFIG, "")).strip()


def app_config_from_input(user_input: Mapping[str, Any]) -> AppConfig:
    """Read the configuration string, or else the three separate values."""
    if text := config_string_of(user_input):
        return parse_config_string(text)
    values = user_input.get(CONF_APP_VALUES) or {}
    return config_from_values(
        values.get(CONF_APP_KEY, "").strip(),
        values.get(CONF_APP_SECRET, "").strip(),
        values.get(CONF_MASTER_PUBLIC_KEY, "").strip(),
    )


async def async_check_server(
    hass: HomeAssistant, url: str, config: AppConfig, verify_ssl: bool
) -> str | None:
    """Ask the server for its time; return a form error key, or None when it answers."""
    try:
        session = await session_for_activation(
            async_get_clientsession(hass, verify_ssl=verify_ssl),
            url,
            config,
            verify_ssl=verify_ssl,
            timeout=REQUEST_TIMEOUT,
        )
        await session.server_time()
    except NetworkError:
        return "cannot_connect"
    except (BadResponseError, ServerError):
        LOGGER.debug("The server's status answer is not a PowerAuth one", exc_info=True)
        return "cannot_connect"
    return None


async def async_check_activation(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, url: str, verify_ssl: bool
) -> str | None:
    """Ask the server at ``url`` for this activation's status; a form error key, or None.

    Any PowerAuth server answers the status request, but one that does not know
    the activation answers with a blob that does not decrypt: it reads as removed.
    The status is only read here (nothing is signed, nothing persisted): the
    loaded entry keeps the counter.
    """
    config = parse_config_string(entry.data[CONF_APP_CONFIG])
    try:
        # The stored state names its protocol (3.3 or 4.0); no persist callback.
        session = open_session(
            async_get_clientsession(hass, verify_ssl=verify_ssl),
            url,
            config,
            await ActivationStore(hass, entry.data[CONF_ACTIVATION_ID]).async_load(),
            language=hass.config.language,
            verify_ssl=verify_ssl,
            timeout=REQUEST_TIMEOUT,
            run_blocking=hass.async_add_executor_job,
        )
    except InvalidStateError:
        # No keys to ask with: the entry asks for a new activation anyway.
        return None
    try:
        # Read only: a counter ahead must not be resynchronised here, where a signature
        # would spend a counter value the loaded entry's session does not know.
        status = await session.fetch_status(synchronize=False)
    except NetworkError:
        return "cannot_connect"
    except (BadResponseError, ServerError):
        LOGGER.debug("The server's activation status is not a PowerAuth one", exc_info=True)
        return "cannot_connect"
    if status.status == STATUS_REMOVED:
        return "activation_unknown"
    return None


def check_pins(user_input: Mapping[str, Any]) -> str | None:
    """Return a form error key when the PIN is too short or not confirmed."""
    try:
        check_pin(user_input[CONF_PIN])
    except InvalidPinError:
        return "pin_too_short"
    if user_input[CONF_PIN] != user_input[CONF_PIN_CONFIRM]:
        return "pin_mismatch"
    return None


class MobileTokenConfigFlow(ConfigFlow, domain=DOMAIN):
    """Connect to the server, activate, wait for the bank's confirmation."""

    VERSION = 1
    # Set by the activation step before the commit step or the entry can need them.
    _session: AnySession
    _result: ActivationResult
    _state: dict[str, Any]

    def __init__(self) -> None:
        """Start with nothing known."""
        self._url = ""
        self._config_string = ""
        self._verify_ssl = True
        self._name = DEFAULT_ACTIVATION_NAME
        self._allow_biometry = False

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: MobileTokenConfigEntry) -> OptionsFlow:
        """Return the options flow: polling interval, language and allowed users."""
        return MobileTokenOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Server URL and the application configuration."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if error := url_error(user_input[CONF_URL]):
                errors = form_errors(error)
            else:
                url = normalize_url(user_input[CONF_URL])
                try:
                    config = app_config_from_input(user_input)
                except InvalidConfigurationError:
                    # Under the string when the user pasted one; the separate values are a section.
                    field = CONF_APP_CONFIG if config_string_of(user_input) else BASE
                    errors[field] = "invalid_app_config"
                else:
                    verify_ssl = user_input[CONF_VERIFY_SSL]
                    if error := await async_check_server(self.hass, url, config, verify_ssl):
                        errors = form_errors(error)
                    else:
                        self._url, self._verify_ssl = url, verify_ssl
                        self._config_string = build_config_string(config)
                        return await self.async_step_activate()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(STEP_USER_SCHEMA, user_input),
            errors=errors,
            description_placeholders=URL_PLACEHOLDERS,
        )

    async def async_step_activate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Activation code, name and PIN; runs the activation."""
        return await self._async_activation_step("activate", user_input)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Activate again into the same entry after the bank blocked or removed it."""
        entry = self._get_reauth_entry()
        self._url = entry.data[CONF_URL]
        self._config_string = entry.data[CONF_APP_CONFIG]
        self._verify_ssl = entry.data[CONF_VERIFY_SSL]
        self._name = entry.data.get(CONF_NAME, entry.title)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Explain what happened and take a new activation code."""
        return await self._async_activation_step("reauth_confirm", user_input)

    async def _async_activation_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"name": self._name, "error_code": ""}
        if user_input is not None:
            error = check_pins(user_input)
            if error is None:
                error = await self._async_activate(user_input, placeholders)
            if error is None:
                if self._result.status.status == STATUS_ACTIVE:
                    return await self._async_finish()
                return await self.async_step_commit()
            errors = form_errors(error)
        suggested = {
            key: value
            for key, value in (user_input or {}).items()
            if key not in (CONF_PIN, CONF_PIN_CONFIRM)
        }
        suggested.setdefault(CONF_NAME, self._name)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(STEP_ACTIVATE_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_activate(
        self, user_input: Mapping[str, Any], placeholders: dict[str, str]
    ) -> str | None:
        """Create the activation; return a form error key, or None on success."""
        code = user_input[CONF_ACTIVATION_CODE].strip()
        try:
            parse_activation_code(code)
        except InvalidActivationCodeError:
            return "invalid_activation_code"
        self._name = user_input[CONF_NAME].strip() or DEFAULT_ACTIVATION_NAME
        self._allow_biometry = user_input[CONF_ALLOW_BIOMETRY]
        try:
            # 4.0 when the server offers it and the configuration has its keys, else 3.3.
            self._session = await session_for_activation(
                async_get_clientsession(self.hass, verify_ssl=self._verify_ssl),
                self._url,
                parse_config_string(self._config_string),
                persist=self._async_remember_state,
                language=self.hass.config.language,
                verify_ssl=self._verify_ssl,
                timeout=REQUEST_TIMEOUT,
                run_blocking=self.hass.async_add_executor_job,
            )
            self._result = await self._session.create_activation(
                code, user_input[CONF_PIN], name=self._name, allow_biometry=self._allow_biometry
            )
        except InvalidActivationCodeSignatureError:
            return "invalid_code_signature"
        except InvalidActivationIdError:
            LOGGER.warning("The server answered an activation id that is not a UUID")
            return "invalid_activation_id"
        except NetworkError:
            return "cannot_connect"
        except BadResponseError:
            LOGGER.debug("The server's activation answer is not a PowerAuth one", exc_info=True)
            return "cannot_connect"
        except ServerError as err:
            placeholders["error_code"] = err.code
            return "activation_failed"
        return None

    async def _async_remember_state(self, state: dict[str, Any]) -> None:
        """Keep the state in memory until the entry exists (secrets never go to the entry)."""
        self._state = state

    async def async_step_commit(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the fingerprint and wait until the bank confirms the activation."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                status = await self._session.fetch_status()
            except (NetworkError, BadResponseError, ServerError):
                errors = form_errors("cannot_connect")
            else:
                if status.status == STATUS_ACTIVE:
                    return await self._async_finish()
                if status.status != STATUS_PENDING_COMMIT:
                    return self.async_abort(reason="activation_rejected")
                errors = form_errors("not_committed")
        return self.async_show_form(
            step_id="commit",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders={
                "fingerprint": self._result.fingerprint,
                "protocol": self._session.protocol_version,
            },
        )

    async def _async_finish(self) -> ConfigFlowResult:
        """Store the secrets under the activation id and create or update the entry."""
        activation_id = self._result.activation_id
        await self.async_set_unique_id(activation_id)
        data = {CONF_NAME: self._name, CONF_ALLOW_BIOMETRY: self._allow_biometry}
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            await ActivationStore(self.hass, activation_id).async_save(self._state)
            if (old_id := entry.data[CONF_ACTIVATION_ID]) != activation_id:
                # The old entry's session may still persist its counter or token until
                # it is unloaded (which waits for its request in flight); only then is
                # the old store gone for good. The reload below sets the entry up again.
                await self.hass.config_entries.async_unload(entry.entry_id)
                await ActivationStore(self.hass, old_id).async_remove()
            return self.async_update_reload_and_abort(
                entry,
                unique_id=activation_id,
                title=self._name,
                data_updates={**data, CONF_ACTIVATION_ID: activation_id},
            )
        self._abort_if_unique_id_configured()
        await ActivationStore(self.hass, activation_id).async_save(self._state)
        return self.async_create_entry(
            title=self._name,
            data={
                CONF_URL: self._url,
                CONF_APP_CONFIG: self._config_string,
                CONF_VERIFY_SSL: self._verify_ssl,
                CONF_ACTIVATION_ID: activation_id,
                **data,
            },
            description="activated",
            description_placeholders={
                "fingerprint": self._result.fingerprint,
                "protocol": self._session.protocol_version,
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the server URL, certificate checking or the name."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            if error := url_error(user_input[CONF_URL]):
                errors = form_errors(error)
            else:
                url = normalize_url(user_input[CONF_URL])
                config = parse_config_string(entry.data[CONF_APP_CONFIG])
                verify_ssl = user_input[CONF_VERIFY_SSL]
                error = await async_check_server(self.hass, url, config, verify_ssl)
                if error is None:
                    error = await async_check_activation(self.hass, entry, url, verify_ssl)
                if error:
                    errors = form_errors(error)
                else:
                    name = user_input[CONF_NAME].strip() or entry.title
                    return self.async_update_reload_and_abort(
                        entry,
                        title=name,
                        data_updates={CONF_URL: url, CONF_VERIFY_SSL: verify_ssl, CONF_NAME: name},
                    )
        suggested = user_input or {
            CONF_URL: entry.data[CONF_URL],
            CONF_VERIFY_SSL: entry.data[CONF_VERIFY_SSL],
            CONF_NAME: entry.data.get(CONF_NAME, entry.title),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(STEP_RECONFIGURE_SCHEMA, suggested),
            errors=errors,
            description_placeholders=URL_PLACEHOLDERS,
        )


class MobileTokenOptionsFlow(OptionsFlow):
    """Polling interval, Accept-Language and who besides admins may approve."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form; the entry reloads with the new options at once.

        A new interval would otherwise wait for the poll scheduled at the old one.
        No update listener does this: from Home Assistant 2026.12 one may not be
        combined with the reload that reauth and reconfigure ask for.
        """
        if user_input is not None:
            entries = self.hass.config_entries
            entries.async_update_entry(self.config_entry, options=user_input)
            entries.async_schedule_reload(self.config_entry.entry_id)
            return self.async_create_entry(data=user_input)
        users = [
            SelectOptionDict(value=user.id, label=user.name or user.id)
            for user in await self.hass.auth.async_get_users()
            if not user.system_generated and user.is_active and not user.is_admin
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=MAX_SCAN_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Optional(CONF_LANGUAGE): LanguageSelector(),
                vol.Optional(CONF_ALLOWED_USERS, default=[]): SelectSelector(
                    SelectSelectorConfig(options=users, multiple=True)
                ),
                vol.Optional(CONF_CALL_SENSORS, default=[]): EntitySelector(
                    EntitySelectorConfig(domain="sensor", multiple=True)
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )
