/**
 * The companion app's camera scanner, reached through the frontend's external bus.
 *
 * Inside the Home Assistant companion app, `hass.auth.external` is the bus to
 * the app; `config.hasBarCodeScanner` says the app can scan. The card asks
 * with `bar_code/scan` {title, description, alternative_option_label}; the app
 * answers with the command `bar_code/scan_result` {rawValue, format} or
 * `bar_code/aborted` {reason}, delivered to `receiveMessage`. The card listens
 * there while its scan is open and still passes every message on, so the
 * frontend's own handling (and its acknowledgement) is untouched. Elsewhere
 * there is no scanner and the card keeps its text fields.
 */
import { localize } from "./mobile-token-card.js";

export function externalBus(hass) {
  return hass?.auth?.external ?? null;
}

/** Whether a camera scanner is available (the companion app says so). */
export function hasScanner(hass) {
  const bus = externalBus(hass);
  return Boolean(bus && typeof bus.fireMessage === "function" && bus.config?.hasBarCodeScanner);
}

/** Open the scanner; resolve with the scanned text, or null when the user cancelled. */
export function scanCode(hass, { title, description, alternative }) {
  const bus = externalBus(hass);
  if (!hasScanner(hass)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const original = bus.receiveMessage;
    const restore = () => {
      if (bus.receiveMessage === listener) bus.receiveMessage = original;
    };
    function listener(message) {
      const result = original ? original.call(bus, message) : undefined;
      if (message?.type === "command" && message.command === "bar_code/scan_result") {
        restore();
        bus.fireMessage({ type: "bar_code/close" });
        resolve(String(message.payload?.rawValue ?? ""));
      } else if (message?.type === "command" && message.command === "bar_code/aborted") {
        restore();
        resolve(null);
      }
      return result;
    }
    bus.receiveMessage = listener;
    bus.fireMessage({
      type: "bar_code/scan",
      payload: { title, description, alternative_option_label: alternative },
    });
  });
}

/** Open the scanner with the card's prompt for a code the bank shows (claim, proximity, offline). */
export function scanBankCode(hass, language) {
  return scanCode(hass, {
    title: localize(language, "scan_title"),
    description: localize(language, "scan_description"),
    alternative: localize(language, "scan_type_instead"),
  });
}

const OPERATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function jwtOperationId(text) {
  const parts = text.split(".");
  if (parts.length < 2) return null;
  try {
    const base64 = parts[1].replaceAll("-", "+").replaceAll("_", "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const claims = JSON.parse(atob(padded));
    return typeof claims?.oid === "string" ? claims.oid : null;
  } catch {
    return null;
  }
}

/**
 * The operation id a claim QR code or deep link carries: a link's `oid`
 * parameter (or a JWT in its first parameter), a JWT's `oid` claim, or the
 * bare id. Null when the text holds none.
 */
export function claimOperationId(text) {
  const value = String(text ?? "").trim();
  if (!value) return null;
  let candidate = null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    try {
      const url = new URL(value);
      candidate = url.searchParams.get("oid");
      if (!candidate) {
        const first = [...url.searchParams.values()][0];
        candidate = first ? jwtOperationId(first) : null;
      }
    } catch {
      candidate = null;
    }
  } else {
    candidate = jwtOperationId(value) ?? value;
  }
  return candidate && OPERATION_ID.test(candidate) ? candidate : null;
}
