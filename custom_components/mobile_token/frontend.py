"""Serve the dashboard card from the integration itself.

A HACS install then needs no second step: the card's module is registered as
an extra frontend module at setup, under a URL carrying the integration's
version so that browsers fetch the new card after an update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from homeassistant.components import frontend
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from .const import DOMAIN

CARD_FILENAME: Final = "mobile-token-card.js"
FRONTEND_DIR: Final = Path(__file__).parent / "frontend"
STATIC_URL_PATH: Final = f"/{DOMAIN}_static"
DATA_FRONTEND_REGISTERED: Final = f"{DOMAIN}_frontend_registered"


def card_url(version: str) -> str:
    """Return the card's module URL, versioned to bust browser caches after an update."""
    return f"{STATIC_URL_PATH}/{CARD_FILENAME}?v={version}"


async def async_setup_frontend(hass: HomeAssistant) -> None:
    """Serve the frontend folder and load the card on every dashboard (once per run)."""
    if hass.data.get(DATA_FRONTEND_REGISTERED):
        return
    integration = await async_get_integration(hass, DOMAIN)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL_PATH, str(FRONTEND_DIR), cache_headers=False)]
    )
    frontend.add_extra_js_url(hass, card_url(str(integration.version)))
    hass.data[DATA_FRONTEND_REGISTERED] = True
