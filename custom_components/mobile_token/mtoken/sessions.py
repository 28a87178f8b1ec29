"""Which session an activation needs: 3.3 or 4.0, for a stored activation or a new one.

Protocol 4.0 notes, section 17: an activation keeps the protocol it was
created (or upgraded) with, so a stored state names its protocol; a new
activation takes 4.0 when the server offers a suite this installation can
run and the configuration carries the 4.0 master keys, and 3.3 otherwise.
"""

from typing import Any, Final, Literal

import aiohttp

from .app_config import AppConfig
from .session import PowerAuthSession
from .session4 import PowerAuth4Session, ProtocolNotOfferedError
from .state import ActivationState
from .state4 import ActivationState4, is_v4_state

#: Either protocol's session: both offer the same calls and say their ``protocol_version``.
type AnySession = PowerAuthSession | PowerAuth4Session
type ProtocolChoice = Literal["3.3", "4.0", "auto"]
PROTOCOL_CHOICES: Final = ("3.3", "4.0", "auto")


def load_state(stored: Any) -> ActivationState | ActivationState4:
    """A stored activation of either protocol; InvalidStateError when unusable."""
    if is_v4_state(stored):
        return ActivationState4.from_dict(stored)
    return ActivationState.from_dict(stored)


def open_session(
    client_session: aiohttp.ClientSession,
    base_url: str,
    config: AppConfig,
    stored: Any,
    **options: Any,
) -> AnySession:
    """The session of a stored activation; InvalidStateError when the state is unusable."""
    state = load_state(stored)
    if isinstance(state, ActivationState4):
        return PowerAuth4Session(client_session, base_url, config, state=state, **options)
    return PowerAuthSession(client_session, base_url, config, state=state, **options)


async def server_offers_v4(
    client_session: aiohttp.ClientSession, base_url: str, config: AppConfig, **options: Any
) -> bool:
    """Whether the server and this installation can activate with 4.0."""
    if not config.speaks_v4:
        return False
    probe = PowerAuth4Session(client_session, base_url, config, **options)
    try:
        await probe.choose_algorithm()
    except ProtocolNotOfferedError:
        # Only a server that answers "no 4.0" means 3.3; a broken answer is an error.
        return False
    return True


async def session_for_activation(
    client_session: aiohttp.ClientSession,
    base_url: str,
    config: AppConfig,
    protocol: ProtocolChoice = "auto",
    **options: Any,
) -> AnySession:
    """A session ready to activate: 4.0 when asked for or, with ``auto``, when offered."""
    if protocol == "4.0" or (
        protocol == "auto" and await server_offers_v4(client_session, base_url, config, **options)
    ):
        return PowerAuth4Session(client_session, base_url, config, **options)
    return PowerAuthSession(client_session, base_url, config, **options)
