"""Upgrade of a 3.3 activation to 4.0: start under 3.3, confirm under 4.0, crash-safe.

Protocol 4.0 notes, section 17. The server keeps the activation on 3.3 until
the confirmation, so the client keeps both until then:

1. ``start_upgrade``: a 3.3 code (PIN) authenticates ``/pa/v4/upgrade/start``,
   whose body is 4.0-encrypted; the 3.3 counter advances and is persisted
   before the request leaves, as for every 3.3 request. If the answer is
   lost, nothing changed locally and the upgrade can start again (the server
   replaces its pending keys). Once the answer is in, the 3.3 session is
   closed so that it can no longer write its state.
2. The new 4.0 state is persisted *with the 3.3 state inside it*
   (``pending_upgrade_v3``) before anything else happens.
3. ``finish_upgrade``: a 4.0 possession code confirms; its counter is
   persisted first. Confirmed, or the server already speaks 4.0 for this
   activation (the answer was lost) → the 3.3 state is dropped. The server
   knows no such upgrade → back to the 3.3 state, whose counter never went
   back. Each counter only ever moves forward, so no value is used twice.

After a restart in the middle, whoever opens the stored state finds
``pending_upgrade_v3`` and calls ``finish_upgrade`` again.
"""

import logging
from dataclasses import replace
from typing import Any, Final

from . import keys4, shared_secret
from .e2ee4 import SH1_UPGRADE_START
from .errors import MobileTokenError, ServerError
from .factors import Authentication, check_pin
from .jsonbody import json_bytes
from .session import PowerAuthSession
from .session4 import ENCRYPTION_HEADER, PowerAuth4Session, encryption_header

_LOGGER = logging.getLogger(__name__)

PATH_UPGRADE_START: Final = "/pa/v4/upgrade/start"
PATH_UPGRADE_CONFIRM: Final = "/pa/v4/upgrade/confirm"
URI_ID_UPGRADE_START: Final = "/pa/upgrade/start"
URI_ID_UPGRADE_CONFIRM: Final = "/pa/upgrade/confirm"
#: The protocol generation a 3.3 status blob names when the server offers 4.0.
UPGRADE_VERSION_4: Final = 4


def upgrade_offered(session: PowerAuthSession) -> bool:
    """Whether the last status offers 4.0 and the configuration carries its master keys."""
    status = session.last_status
    return (
        status is not None
        and status.status == "active"
        and status.upgrade_version >= UPGRADE_VERSION_4
        and session.config.speaks_v4
    )


async def start_upgrade(v3: PowerAuthSession, v4: PowerAuth4Session, pin: str) -> PowerAuth4Session:
    """Steps 1 and 2: ``v4`` (same server, no state yet) ends up holding the pending 4.0 state."""
    check_pin(pin)
    old = v3.state
    suite = await v4.choose_algorithm()
    device = await v4.run_blocking(lambda: keys4.SigningKeys.generate(suite))
    exchange = await v4.run_blocking(lambda: shared_secret.ClientContext(suite))
    encryptor = await v4.encryptor(SH1_UPGRADE_START, v4.application_scope(suite))
    plaintext = {
        "sharedSecretRequest": exchange.request_json(),
        "devicePublicKeys": device.public.to_json(),
        "enableBiometry": old.has_biometry_key,
    }
    body = json_bytes(encryptor.encrypt_request(json_bytes(plaintext), v4.clock.now_ms()))
    answer = v4.open_answer(
        encryptor,
        await v3.signed_post(
            PATH_UPGRADE_START,
            URI_ID_UPGRADE_START,
            body,
            Authentication.with_pin(pin),
            # The one request whose encryption header goes with an authorization header.
            {ENCRYPTION_HEADER: encryption_header(v4.config.app_key, None)},
        ),
    )
    # From here on only the 4.0 state may be written: a 3.3 request still
    # running would otherwise store the 3.3 state over it.
    await v3.close()
    old_state = v3.state.to_dict()
    answer["activationId"] = old.activation_id
    state = await v4.run_blocking(
        lambda: v4.new_state(suite, device, exchange, answer, pin, old.has_biometry_key)
    )
    await v4.save(replace(state, pending_upgrade_v3=old_state))
    _LOGGER.debug("Upgrade to protocol 4.0 started (%s)", suite)
    return v4


async def finish_upgrade(v4: PowerAuth4Session) -> dict[str, Any] | None:
    """Step 3: confirm. None when the activation now speaks 4.0; else the 3.3 state to go back to.

    Network trouble propagates and leaves everything as it is, to be retried.
    """
    state = v4.state
    if state.pending_upgrade_v3 is None:
        return None
    try:
        await v4.signed_post(
            PATH_UPGRADE_CONFIRM, URI_ID_UPGRADE_CONFIRM, {}, Authentication.possession()
        )
    except ServerError:
        try:
            await v4.fetch_status()
        except MobileTokenError:
            _LOGGER.debug("The server knows no upgrade of this activation; staying on 3.3")
            return state.pending_upgrade_v3
    await v4.save(replace(v4.state, pending_upgrade_v3=None))
    _LOGGER.debug("Upgrade to protocol 4.0 confirmed")
    return None
