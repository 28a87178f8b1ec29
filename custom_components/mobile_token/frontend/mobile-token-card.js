/**
 * Mobile token card: approve or reject the operations a bank sends to the
 * Home Assistant mobile token, the way the bank's own mobile-token app does
 * (operations guide: attributes, pre-approval and post-approval screens,
 * result texts).
 *
 * Plain web components, no build step. Talks to the integration only through
 * its websocket commands (mobile_token/subscribe, /approve, /reject; the
 * history, offline QR and removal tools in mobile-token-tools.js), so a PIN
 * never travels as action data and never reaches traces or the event bus.
 *
 * The pure helpers at the top are exported for the unit tests in tests/card.
 */

import { defineElements } from "./define-elements.js";
import { SDK2_STRINGS } from "./mt-strings-sdk2.js";
import { renderAlertAttribute, renderCell, renderElements, screensOf, screenControls, approveControl, listTexts, detailLayout } from "./mt-sdk2.js";
import { messagesView, claimView, WS_MESSAGES, WS_MESSAGE_READ, WS_CLAIM, WS_REFRESH } from "./mt-views.js";
import { claimOperationId, hasScanner, scanBankCode } from "./mt-scanner.js";
import { MobileTokenTools } from "./mobile-token-tools.js";

export const DOMAIN = "mobile_token";
export const WS_SUBSCRIBE = "mobile_token/subscribe";
export const WS_APPROVE = "mobile_token/approve";
export const WS_REJECT = "mobile_token/reject";
export const FACTOR_BIOMETRY = "possession_biometry";
export const MIN_PIN_LENGTH = 4;
export const MAX_PIN_LENGTH = 16;
export const REJECT_REASONS = ["UNEXPECTED_OPERATION", "INCORRECT_DATA", "UNKNOWN"];
const CUSTOM_REASON = "CUSTOM";
const TICK_MS = 1000;
const RETRY_MS = 10000;
const TOTP_PATTERN = /^\d{6,10}$/;
// Errors that end the operation for good: show its failure result, not a retry.
const FINAL_ERRORS = new Set([
  "operation_expired",
  "operation_already_finished",
  "operation_not_found",
  "operation_failed",
]);

// Errors about the proximity code: back to the QR_SCAN screen to enter it again.
const PROXIMITY_ERRORS = new Set(["invalid_pac", "pac_mismatch", "proximity_required"]);

export const STRINGS = {
  en: {
    title: "Mobile token",
    loading: "Loading operations…",
    empty: "No operations waiting",
    no_entry: "No Mobile token activation found. Add the integration first.",
    load_failed: "Cannot load operations: {message}",
    retry: "Try again",
    approve: "Approve",
    reject: "Reject",
    continue: "Continue",
    cancel: "Cancel",
    done: "Done",
    expires_in: "Expires in {time}",
    expired: "Expired",
    slide_to_confirm: "Slide to confirm",
    proximity_label: "Code from the bank's QR code",
    proximity_hint: "Paste the text of the QR code or link the bank shows, or type its numeric code.",
    pin_title: "Enter your PIN",
    pin_for: "to approve: {title}",
    pin_delete: "Delete last digit",
    pin_confirm: "Confirm",
    approve_without_pin: "Approve without PIN",
    attempts_left: "Attempts left: {count}",
    reject_title: "Why do you reject it?",
    reason_UNEXPECTED_OPERATION: "I did not start this operation",
    reason_INCORRECT_DATA: "The details are wrong",
    reason_UNKNOWN: "Other reason",
    reason_CUSTOM: "Custom reason",
    custom_reason_placeholder: "Reason code, e.g. POSSIBLE_FRAUD",
    reject_confirm: "Reject operation",
    working_approve: "Approving…",
    working_reject: "Rejecting…",
    result_approved: "Operation approved",
    result_rejected: "Operation rejected",
    result_failed: "Operation failed",
    rate_dynamic: "The exchange rate may still change.",
    redirect_in: "Back to the merchant in {seconds} s",
    redirect_now: "You can go back to the merchant now.",
    open_original: "Open the full image",
    cannot_approve_here: "This operation needs a factor this token does not offer here.",
    editor_entry: "Activation",
    editor_entry_auto: "The first one found",
    editor_title: "Title (optional)",
    card_description: "Approve or reject the operations your bank sends to the mobile token.",
    error_wrong_pin: "Wrong PIN.",
    error_operation_expired: "The operation has expired.",
    error_operation_already_finished: "The operation has already been finished.",
    error_operation_not_found: "The operation no longer exists.",
    error_operation_failed: "The operation failed.",
    error_activation_blocked: "The token is blocked. Unblock it in your bank's app.",
    error_cannot_connect: "The bank's server cannot be reached. Try again.",
    error_not_allowed: "You are not allowed to approve operations of this token.",
    error_pin_required: "A PIN is needed to approve this operation.",
    error_factor_not_allowed: "This way of approving is not allowed for this operation.",
    error_biometry_not_enabled: "Approving without PIN is not enabled for this token.",
    error_proximity_required: "Enter the code from the bank's QR code first.",
    error_invalid_pac: "This is not a code from the bank's QR code.",
    error_pac_mismatch: "The QR code belongs to another operation.",
    error_block_risk: "This is your last attempt: a wrong PIN blocks the token. Type the PIN again to try it.",
    error_activation_removed: "The token was removed at the bank. Activate it again in the integration.",
    error_authentication_failed: "The bank refused the approval.",
    server_unavailable: "The bank's server is not answering; this is the last known list.",
    error_entry_not_found: "This Mobile token activation does not exist.",
    error_entry_not_loaded: "This Mobile token activation is not loaded.",
  },
  cs: {
    title: "Mobilní token",
    loading: "Načítám operace…",
    empty: "Žádné operace nečekají",
    no_entry: "Nenalezena žádná aktivace mobilního tokenu. Nejprve přidejte integraci.",
    load_failed: "Operace nelze načíst: {message}",
    retry: "Zkusit znovu",
    approve: "Potvrdit",
    reject: "Odmítnout",
    continue: "Pokračovat",
    cancel: "Zrušit",
    done: "Hotovo",
    expires_in: "Vyprší za {time}",
    expired: "Vypršela",
    slide_to_confirm: "Potvrďte posunutím",
    proximity_label: "Kód z QR kódu banky",
    proximity_hint: "Vložte text QR kódu nebo odkazu, který banka zobrazuje, nebo opište jeho číselný kód.",
    pin_title: "Zadejte PIN",
    pin_for: "pro potvrzení: {title}",
    pin_delete: "Smazat poslední číslici",
    pin_confirm: "Potvrdit",
    approve_without_pin: "Potvrdit bez PINu",
    attempts_left: "Zbývající pokusy: {count}",
    reject_title: "Proč operaci odmítáte?",
    reason_UNEXPECTED_OPERATION: "Tuto operaci jsem nezadal(a)",
    reason_INCORRECT_DATA: "Údaje nesouhlasí",
    reason_UNKNOWN: "Jiný důvod",
    reason_CUSTOM: "Vlastní důvod",
    custom_reason_placeholder: "Kód důvodu, např. POSSIBLE_FRAUD",
    reject_confirm: "Odmítnout operaci",
    working_approve: "Potvrzuji…",
    working_reject: "Odmítám…",
    result_approved: "Operace potvrzena",
    result_rejected: "Operace odmítnuta",
    result_failed: "Operace se nezdařila",
    rate_dynamic: "Kurz se ještě může změnit.",
    redirect_in: "Zpět k obchodníkovi za {seconds} s",
    redirect_now: "Nyní se můžete vrátit k obchodníkovi.",
    open_original: "Otevřít celý obrázek",
    cannot_approve_here: "Operace vyžaduje faktor, který tento token zde nenabízí.",
    editor_entry: "Aktivace",
    editor_entry_auto: "První nalezená",
    editor_title: "Nadpis (nepovinný)",
    card_description: "Potvrzujte nebo odmítejte operace, které banka posílá do mobilního tokenu.",
    error_wrong_pin: "Chybný PIN.",
    error_operation_expired: "Platnost operace vypršela.",
    error_operation_already_finished: "Operace už byla dokončena.",
    error_operation_not_found: "Operace už neexistuje.",
    error_operation_failed: "Operace se nezdařila.",
    error_activation_blocked: "Token je zablokovaný. Odblokujte ho v aplikaci banky.",
    error_cannot_connect: "Server banky není dostupný. Zkuste to znovu.",
    error_not_allowed: "Nemáte oprávnění potvrzovat operace tohoto tokenu.",
    error_pin_required: "K potvrzení této operace je potřeba PIN.",
    error_factor_not_allowed: "Tento způsob potvrzení není pro operaci povolen.",
    error_biometry_not_enabled: "Potvrzení bez PINu není pro tento token zapnuté.",
    error_proximity_required: "Nejprve zadejte kód z QR kódu banky.",
    error_invalid_pac: "Toto není kód z QR kódu banky.",
    error_pac_mismatch: "QR kód patří k jiné operaci.",
    error_block_risk: "Toto je poslední pokus: chybný PIN token zablokuje. Pro pokus zadejte PIN znovu.",
    error_activation_removed: "Token byl v bance odstraněn. Aktivujte ho v integraci znovu.",
    error_authentication_failed: "Banka potvrzení odmítla.",
    server_unavailable: "Server banky neodpovídá; zobrazuje se poslední známý seznam.",
    error_entry_not_found: "Tato aktivace mobilního tokenu neexistuje.",
    error_entry_not_loaded: "Tato aktivace mobilního tokenu není načtená.",
  },
};

for (const language of Object.keys(STRINGS)) Object.assign(STRINGS[language], SDK2_STRINGS[language]);

// --- pure helpers -------------------------------------------------------------------------

/** The card's language for a Home Assistant language tag ("cs", "cs-CZ" → cs; anything else → en). */
export function pickLanguage(language) {
  const base = String(language || "en").toLowerCase().split(/[-_]/)[0];
  return base in STRINGS ? base : "en";
}

/** A string of the card in `language` with `{name}` placeholders filled. */
export function localize(language, key, vars = {}) {
  const table = STRINGS[pickLanguage(language)];
  const text = table[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value) {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A link target the card may render: only absolute http(s) URLs from the server. */
export function safeLinkUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** An image source the card may render: http(s), or an inline raster image. */
export function safeImageUrl(value) {
  const text = String(value ?? "");
  if (/^data:image\/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(text)) {
    return text;
  }
  return safeLinkUrl(text);
}

/** Milliseconds since the epoch from a wire date (§2: ISO 8601 with +0000, Z, or epoch ms). */
export function parseWireDate(value) {
  if (typeof value === "number") return value;
  if (typeof value !== "string" || value === "") return null;
  const normalised = value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? null : ms;
}

/** "4:05", or "1:02:03" past an hour; null once the time is up. */
export function formatCountdown(remainingMs) {
  if (remainingMs === null || remainingMs === undefined || remainingMs <= 0) return null;
  const total = Math.ceil(remainingMs / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function formatNumber(amount, currency, language) {
  if (typeof amount !== "number") return null;
  try {
    return new Intl.NumberFormat(pickLanguage(language), {
      style: currency ? "currency" : "decimal",
      currency: currency || undefined,
      maximumFractionDigits: 2,
    }).format(amount);
  } catch {
    return currency ? `${amount} ${currency}` : String(amount);
  }
}

/**
 * The money text of an AMOUNT attribute, or one side of AMOUNT_CONVERSION (prefix "source"/"target"):
 * the server's valueFormatted, else its formatted amount and currency, else our own formatting.
 */
export function formatMoney(attribute, language, prefix = "") {
  const key = (name) => (prefix ? prefix + name[0].toUpperCase() + name.slice(1) : name);
  const valueFormatted = attribute[key("valueFormatted")];
  if (valueFormatted) return valueFormatted;
  const amountFormatted = attribute[key("amountFormatted")];
  const currencyFormatted = attribute[key("currencyFormatted")];
  const amount = attribute[key("amount")];
  const currency = attribute[key("currency")];
  if (amountFormatted) return [amountFormatted, currencyFormatted || currency].filter(Boolean).join(" ");
  const own = currencyFormatted ? formatNumber(amount, null, language) : formatNumber(amount, currency, language);
  if (own === null) return currencyFormatted || currency || "";
  return currencyFormatted ? `${own} ${currencyFormatted}` : own;
}

/** Proximity input as approve fields: a bare numeric code is a TOTP, anything else a QR/deeplink text. */
export function proximityFields(text) {
  const value = String(text ?? "").trim();
  if (!value) return null;
  return TOTP_PATTERN.test(value) ? { totp: value } : { pac: value };
}

/** The pre-approval screen type, or null when there is none. */
export function preApprovalType(operation) {
  return screensOf(operation)[0]?.type ?? null;
}

/** Whether approval needs the proximity code (a QR_SCAN pre-approval screen, §2). */
export function requiresProximity(operation) {
  return operation.requiresProximity ?? screensOf(operation).some((screen) => screen.type === "QR_SCAN");
}

/** How the Approve button proceeds: "pin" pad, direct "possession", direct "biometry", or "none". */
export function approvalMode(operation) {
  const signature = operation.allowedSignatureType ?? {};
  const variants = signature.variants ?? [];
  if (signature.type === "1FA") return "possession";
  if (operation.requiresPin ?? variants.includes("possession_knowledge")) return "pin";
  if (operation.allowsBiometry) return "biometry";
  return "none";
}

/** The websocket approve message for one operation; proximityAt is when its code was entered. */
export function approveMessage(entryId, operationId, { pin, factor, proximity, acceptBlockRisk, visits, proximityAt } = {}) {
  const message = { type: WS_APPROVE, entry_id: entryId, operation_id: operationId };
  // The record of the pre-approval screens, for the bank's fraud detection (mobileTokenData).
  if (visits?.length) message.screen_visits = visits;
  if (proximity && Number.isInteger(proximityAt)) message.timestamp_received = proximityAt;
  if (pin) message.pin = pin;
  else if (factor) message.factor = factor;
  // Only after the integration warned that this PIN attempt is the last one.
  if (pin && acceptBlockRisk) message.accept_block_risk = true;
  return { ...message, ...(proximity ?? {}) };
}

/** The websocket reject message; a custom reason is sent upper-cased like the bank's codes. */
export function rejectMessage(entryId, operationId, reason, customReason = "", visits = []) {
  const chosen = reason === CUSTOM_REASON ? String(customReason).trim().toUpperCase() : reason;
  const message = { type: WS_REJECT, entry_id: entryId, operation_id: operationId, reason: chosen || "UNKNOWN" };
  return visits.length ? { ...message, screen_visits: visits } : message;
}

/** The error code of a rejected websocket promise (`{code, message}`). */
export function errorCode(error) {
  return error?.translation_key || error?.code || "unknown";
}

/** Remaining PIN attempts from a wrong_pin error, when the integration reported them. */
export function remainingAttempts(error) {
  const value = error?.translation_placeholders?.remaining_attempts;
  const count = Number.parseInt(value, 10);
  return Number.isNaN(count) ? null : count;
}

/** The text for an error: the card's own translation when it knows the code, else the server's. */
export function errorText(language, error) {
  const key = `error_${errorCode(error)}`;
  if (key in STRINGS.en) return localize(language, key);
  return error?.message || String(error ?? "");
}

// --- rendering (pure: state in, HTML out) -----------------------------------------------------

const esc = escapeHtml;

function renderLabelValue(label, valueHtml, extraClass = "") {
  return `<div class="row ${extraClass}"><div class="label">${esc(label)}</div><div class="value">${valueHtml}</div></div>`;
}

function renderPartyInfo(attribute, language) {
  const info = attribute.partyInfo ?? {};
  const logo = safeImageUrl(info.logoUrl);
  const site = safeLinkUrl(info.websiteUrl);
  return `<div class="row party">
    ${attribute.label ? `<div class="label">${esc(attribute.label)}</div>` : ""}
    <div class="party-body">
      ${logo ? `<img class="party-logo" src="${esc(logo)}" alt="" loading="lazy" referrerpolicy="no-referrer">` : ""}
      <div class="party-text">
        <div class="party-name">${esc(info.name)}</div>
        ${info.description ? `<div class="party-description">${esc(info.description)}</div>` : ""}
        ${site ? `<a class="party-link" href="${esc(site)}" target="_blank" rel="noopener noreferrer">${esc(new URL(site).host)}</a>` : ""}
      </div>
    </div>
  </div>`;
}

function renderImage(attribute, language) {
  const thumbnail = safeImageUrl(attribute.thumbnailUrl);
  if (!thumbnail) return renderLabelValue(attribute.label, "", "unknown");
  const original = safeLinkUrl(attribute.originalUrl) ?? safeLinkUrl(attribute.thumbnailUrl);
  const img = `<img class="thumbnail" src="${esc(thumbnail)}" alt="${esc(attribute.label)}" loading="lazy" referrerpolicy="no-referrer">`;
  const body = original
    ? `<a href="${esc(original)}" target="_blank" rel="noopener noreferrer" title="${esc(localize(language, "open_original"))}">${img}</a>`
    : img;
  return `<div class="row image">${attribute.label ? `<div class="label">${esc(attribute.label)}</div>` : ""}${body}</div>`;
}

/** One attribute row as the operations guide describes its type; unknown types show the label only. */
export function renderAttribute(attribute, language) {
  switch (attribute?.type) {
    case "AMOUNT":
      return renderLabelValue(attribute.label, `<span class="amount">${esc(formatMoney(attribute, language))}</span>`);
    case "AMOUNT_CONVERSION": {
      const source = esc(formatMoney(attribute, language, "source"));
      const target = esc(formatMoney(attribute, language, "target"));
      const dynamic = attribute.dynamic ? `<div class="hint">${esc(localize(language, "rate_dynamic"))}</div>` : "";
      return renderLabelValue(
        attribute.label,
        `<span class="amount">${source}</span> <span class="arrow" aria-hidden="true">→</span> <span class="amount">${target}</span>${dynamic}`,
        "conversion",
      );
    }
    case "KEY_VALUE":
      return renderLabelValue(attribute.label, esc(attribute.value));
    case "NOTE":
      return renderLabelValue(attribute.label, `<div class="note">${esc(attribute.note)}</div>`, "note-row");
    case "HEADING":
      return `<div class="heading" role="heading" aria-level="3">${esc(attribute.label)}</div>`;
    case "PARTY_INFO":
      return renderPartyInfo(attribute, language);
    case "IMAGE":
      return renderImage(attribute, language);
    case "ALERT":
      return renderAlertAttribute(attribute, language);
    default:
      return `<div class="row unknown"><div class="label">${esc(attribute?.label)}</div></div>`;
  }
}

function button(action, operationId, label, { primary = false, disabled = false, extra = "" } = {}) {
  return `<button type="button" class="${primary ? "primary" : "secondary"}" data-action="${action}" data-op="${esc(operationId)}"${disabled ? " disabled" : ""} ${extra}>${esc(label)}</button>`;
}

function renderError(state, language) {
  if (!state.error) return "";
  const attempts =
    state.remaining !== null && state.remaining !== undefined
      ? ` <span class="attempts">${esc(localize(language, "attempts_left", { count: state.remaining }))}</span>`
      : "";
  return `<div class="error" role="alert">${esc(state.error)}${attempts}</div>`;
}

function renderPreApproval(operation, state, language, nowMs = Date.now()) {
  const screens = screensOf(operation);
  const index = Math.min(state.screenIndex ?? 0, screens.length - 1);
  const screen = screens[index];
  const type = screen.type;
  const control = approveControl(screen);
  const waiting = control.counter ? Math.ceil((state.screenOpenedAt + control.counter * 1000 - nowMs) / 1000) : 0;
  const step = screens.length > 1 ? `<div class="hint step">${esc(localize(language, "screen_step", { step: index + 1, count: screens.length }))}</div>` : "";
  const elements = renderElements(screen, language, operation.id);
  const ctl = screenControls(screen, index, language);
  // The bank may warn about fraud here: rejecting must not need the extra steps.
  const reject = button("reject", operation.id, ctl.rejectLabel);
  const back = ctl.back ? button("pre-back", operation.id, ctl.backLabel) : "";
  const row = (parts, extra = "") => {
    const ordered = ctl.flip ? [...parts].reverse() : parts;
    return `<div class="buttons${ctl.vertical ? " vertical" : ""}${parts.length === 1 ? " single" : ""}"${extra}>${ordered.join("")}</div>`;
  };
  let confirm;
  if (type === "QR_SCAN") {
    confirm = `<label class="field"><span>${esc(localize(language, "proximity_label"))}</span>
      <input type="text" data-input="proximity" data-op="${esc(operation.id)}" value="${esc(state.proximity)}" autocomplete="off" spellcheck="false" inputmode="text">
      <small>${esc(localize(language, "proximity_hint"))}</small></label>
      ${row([back, reject, state.scanner ? button("proximity-scan", operation.id, localize(language, "scan")) : "", button("pre-continue", operation.id, localize(language, "continue"), { primary: true })].filter(Boolean))}`;
  } else if (waiting > 0) {
    confirm = row([back, reject, button("pre-continue", operation.id, localize(language, "wait_seconds", { seconds: waiting }), { primary: true, disabled: true })].filter(Boolean), ' data-waiting="1"');
  } else if (control.kind === "slider") {
    confirm = `<label class="slider"><span>${esc(localize(language, "slide_to_confirm"))}</span>
      <input type="range" min="0" max="100" step="1" value="0" data-input="slider" data-op="${esc(operation.id)}" aria-label="${esc(localize(language, "slide_to_confirm"))}"></label>
      ${row([back, reject].filter(Boolean))}`;
  } else {
    confirm = row([back, reject, button("pre-continue", operation.id, control.text || localize(language, "continue"), { primary: true })].filter(Boolean));
  }
  const kind = type === "WARNING" ? "warning" : type === "QR_SCAN" ? "qr" : "info";
  return `<div class="pre ${kind}">
    ${step}
    <div class="pre-heading">${esc(screen.heading)}</div>
    <div class="pre-message">${esc(screen.message)}</div>
    ${elements}
    ${renderError(state, language)}
    ${confirm}
  </div>`;
}

function renderDecisionButtons(operation, state, language, expired) {
  const mode = approvalMode(operation);
  const approve = button("approve", operation.id, localize(language, "approve"), {
    primary: !operation.ui?.flipButtons,
    disabled: expired || mode === "none",
  });
  const reject = button("reject", operation.id, localize(language, "reject"), {
    primary: Boolean(operation.ui?.flipButtons),
    disabled: expired,
  });
  const note = mode === "none" ? `<div class="hint">${esc(localize(language, "cannot_approve_here"))}</div>` : "";
  // flipButtons swaps position and style (operations guide, WMTOperationUIData).
  const ordered = operation.ui?.flipButtons ? approve + reject : reject + approve;
  return `${note}<div class="buttons">${ordered}</div>`;
}

function renderPinPad(operation, state, language) {
  const dots = Array.from({ length: Math.max(MIN_PIN_LENGTH, state.pin.length) }, (_, i) =>
    `<span class="dot${i < state.pin.length ? " filled" : ""}"></span>`,
  ).join("");
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    .map((digit) => `<button type="button" class="key" data-action="pin-digit" data-digit="${digit}" data-op="${esc(operation.id)}">${digit}</button>`)
    .join("");
  const biometry = operation.allowsBiometry
    ? `<div class="buttons single">${button("approve-biometry", operation.id, localize(language, "approve_without_pin"))}</div>`
    : "";
  return `<div class="pin" tabindex="0" data-pin-pad="${esc(operation.id)}">
    <div class="pin-title">${esc(localize(language, "pin_title"))}</div>
    <div class="pin-for">${esc(localize(language, "pin_for", { title: operation.formData?.title ?? "" }))}</div>
    <div class="dots" aria-label="${esc(`${state.pin.length}`)}">${dots}</div>
    ${renderError(state, language)}
    <div class="keypad">${keys}
      <button type="button" class="key muted" data-action="pin-cancel" data-op="${esc(operation.id)}">${esc(localize(language, "cancel"))}</button>
      <button type="button" class="key" data-action="pin-digit" data-digit="0" data-op="${esc(operation.id)}">0</button>
      <button type="button" class="key muted" data-action="pin-back" data-op="${esc(operation.id)}" aria-label="${esc(localize(language, "pin_delete"))}">⌫</button>
    </div>
    <div class="buttons single">${button("pin-submit", operation.id, localize(language, "pin_confirm"), { primary: true, disabled: state.pin.length < MIN_PIN_LENGTH })}</div>
    ${biometry}
  </div>`;
}

function renderRejectForm(operation, state, language) {
  const options = [...REJECT_REASONS, CUSTOM_REASON]
    .map(
      (reason) => `<label class="reason"><input type="radio" name="reason-${esc(operation.id)}" value="${reason}" data-input="reason" data-op="${esc(operation.id)}"${state.reason === reason ? " checked" : ""}> <span>${esc(localize(language, `reason_${reason}`))}</span></label>`,
    )
    .join("");
  const custom =
    state.reason === CUSTOM_REASON
      ? `<input type="text" class="custom-reason" data-input="custom-reason" data-op="${esc(operation.id)}" value="${esc(state.customReason)}" placeholder="${esc(localize(language, "custom_reason_placeholder"))}" maxlength="32" autocomplete="off">`
      : "";
  return `<div class="reject-form">
    <div class="pin-title">${esc(localize(language, "reject_title"))}</div>
    <div class="reasons">${options}${custom}</div>
    ${renderError(state, language)}
    <div class="buttons">${button("reject-cancel", operation.id, localize(language, "cancel"))}${button("reject-confirm", operation.id, localize(language, "reject_confirm"), { primary: true })}</div>
  </div>`;
}

/** The whole block of one pending operation in the view its UI state asks for. */
export function renderOperation(operation, state, language, nowMs) {
  const expiresMs = parseWireDate(operation.operationExpires);
  const expired = expiresMs !== null && nowMs >= expiresMs;
  const form = operation.formData ?? {};
  const header = `<div class="op-header">
      <div class="op-title">${listTexts(operation).header ? `<div class="hint op-overline">${esc(listTexts(operation).header)}</div>` : ""}${esc(listTexts(operation).title)}</div>
      ${expiresMs !== null ? `<div class="countdown${expired ? " expired" : ""}" data-expires="${expiresMs}"></div>` : ""}
    </div>`;
  if (state.view === "busy") {
    return `${header}<div class="busy" role="status"><span class="spinner"></span>${esc(localize(language, state.busyText))}</div>`;
  }
  if (state.view === "pin") return header + renderPinPad(operation, state, language);
  if (state.view === "reject") return header + renderRejectForm(operation, state, language);
  if (preApprovalType(operation) && !state.preDone && !expired) {
    return header + renderPreApproval(operation, state, language, nowMs);
  }
  const layout = detailLayout(operation);
  const attributes = layout.sections
    .map((section) => (section.title ? `<div class="heading" role="heading" aria-level="3">${esc(section.title)}</div>` : "") +
      section.cells.map(({ cell, attribute }) => renderCell(cell, renderAttribute(attribute, language), attribute.label)).join(""))
    .join("");
  const message = layout.showTitleAndMessage ? listTexts(operation).message : "";
  return `${header}
    ${message ? `<div class="op-message">${esc(message)}</div>` : ""}
    ${attributes ? `<div class="attributes">${attributes}</div>` : ""}
    ${renderError(state, language)}
    ${renderDecisionButtons(operation, state, language, expired)}`;
}

function renderPostApproval(screen, language, redirectUntil) {
  if (!screen) return "";
  const head = `<div class="pre-heading">${esc(screen.heading)}</div><div class="pre-message">${esc(screen.message)}</div>`;
  const payload = screen.payload ?? {};
  if (screen.type === "REVIEW") {
    const rows = (payload.attributes ?? []).map((attribute) => renderAttribute(attribute, language)).join("");
    return `<div class="post review">${head}<div class="attributes">${rows}</div></div>`;
  }
  if (screen.type === "MERCHANT_REDIRECT") {
    const url = safeLinkUrl(payload.redirectUrl);
    const link = url
      ? `<a class="redirect" href="${esc(url)}" target="_blank" rel="noopener noreferrer">${esc(payload.redirectText || url)}</a>`
      : "";
    return `<div class="post redirect-screen">${head}<div class="redirect-countdown" data-redirect-until="${redirectUntil}"></div>${link}</div>`;
  }
  const body = payload && typeof payload === "object" && Object.keys(payload).length
    ? `<pre class="generic">${esc(JSON.stringify(payload, null, 2))}</pre>`
    : "";
  return `<div class="post generic-screen">${head}${body}</div>`;
}

/** The result of a finished operation: its result text and, after approval, the post-approval screen. */
export function renderResult(result, language) {
  const texts = result.operation.formData?.resultTexts ?? {};
  const text = {
    approved: texts.success,
    rejected: texts.reject,
    failed: texts.failure ?? result.message,
  }[result.outcome];
  const post =
    result.outcome === "approved"
      ? renderPostApproval(result.operation.ui?.postApprovalScreen, language, result.redirectUntil)
      : "";
  return `<div class="result ${result.outcome}">
    <div class="result-icon" aria-hidden="true">${result.outcome === "approved" ? "✓" : result.outcome === "rejected" ? "✕" : "!"}</div>
    <div class="result-title">${esc(localize(language, `result_${result.outcome}`))}</div>
    <div class="op-title small">${esc(result.operation.formData?.title)}</div>
    ${text ? `<div class="result-text">${esc(text)}</div>` : ""}
    ${result.outcome === "failed" && texts.failure && result.message ? `<div class="hint">${esc(result.message)}</div>` : ""}
  </div>${post}<div class="buttons single">${button("dismiss", result.operation.id, localize(language, "done"))}</div>`;
}

// --- styles -------------------------------------------------------------------------------

const STYLES = `
  .mt-header { flex-wrap: wrap; }
  .card-title { white-space: nowrap; }
  .mt-tools { margin-left: auto; display: flex; gap: 6px; white-space: nowrap; font-size: 0.75rem; font-weight: 400; }
  .tool { font: inherit; font-size: 1em; line-height: 1.6; border: 1px solid var(--divider-color, #ccc); border-radius: 14px; background: none; color: var(--primary-color); padding: 2px 10px; cursor: pointer; }
  .progress { height: 3px; background: linear-gradient(90deg, transparent, var(--primary-color), transparent); background-size: 200% 100%; animation: mt-progress 1.2s linear infinite; }
  @keyframes mt-progress { from { background-position: 200% 0; } to { background-position: -200% 0; } }
  .alert-box { border-left: 4px solid var(--info-color, #039be5); background: color-mix(in srgb, var(--info-color, #039be5) 12%, transparent); padding: 8px 12px; border-radius: 6px; margin: 8px 0; display: block; text-align: left; }
  .alert-box.success { border-color: var(--success-color, #43a047); background: color-mix(in srgb, var(--success-color, #43a047) 12%, transparent); }
  .alert-box.warning { border-color: var(--warning-color, #ffa000); background: color-mix(in srgb, var(--warning-color, #ffa000) 14%, transparent); }
  .alert-box.error { border-color: var(--error-color, #db4437); background: color-mix(in srgb, var(--error-color, #db4437) 12%, transparent); }
  .alert-title { font-weight: 600; }
  .items { margin: 6px 0; padding-left: 20px; }
  .list-item.warning { color: var(--warning-color, #ffa000); }
  .list-item.error { color: var(--error-color, #db4437); }
  .link-button { display: inline-block; margin: 6px 0; padding: 6px 14px; border-radius: 16px; border: 1px solid var(--primary-color); color: var(--primary-color); text-decoration: none; }
  .message-row { display: grid; width: 100%; text-align: left; font: inherit; background: none; border: none; border-bottom: 1px solid var(--divider-color, #ddd); padding: 8px 4px; color: inherit; cursor: pointer; }
  .message-row.unread .message-subject { font-weight: 700; }
  .message-summary { color: var(--secondary-text-color); }
  .message-body { margin: 10px 0; overflow-wrap: anywhere; }
  .cell.no-title .label { display: none; }
  .buttons.vertical { flex-direction: column; }
  .cell.centered .row { justify-content: center; text-align: center; }
  .cell-fold > summary { cursor: pointer; color: var(--secondary-text-color); padding: 6px 0; }
  .op-overline { font-weight: 400; }
:host { display: block; }
ha-card { overflow: hidden; }
.mt-header { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 16px 16px 8px; line-height: 1.4; font-size: 1.3em; font-weight: 500; color: var(--ha-card-header-color, var(--primary-text-color)); }
.badge { min-width: 24px; padding: 2px 8px; line-height: 1.4; border-radius: 12px; background: var(--primary-color); color: var(--text-primary-color, #fff); font-size: 0.7em; text-align: center; box-sizing: border-box; }
.list { display: flex; flex-direction: column; gap: 12px; padding: 8px 16px 16px; }
.item { border: 1px solid var(--divider-color, rgba(127,127,127,.3)); border-radius: 12px; padding: 14px; background: var(--secondary-background-color, transparent); color: var(--primary-text-color); }
.state { padding: 24px 8px; text-align: center; color: var(--secondary-text-color); }
.state.error-state { color: var(--error-color, #db4437); }
.op-header { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
.op-title { font-size: 1.1em; font-weight: 600; }
.op-title.small { font-size: 1em; font-weight: 500; color: var(--secondary-text-color); }
.countdown { font-size: 0.85em; color: var(--secondary-text-color); font-variant-numeric: tabular-nums; white-space: nowrap; }
.countdown.expired, .countdown.soon { color: var(--error-color, #db4437); font-weight: 600; }
.op-message { margin: 6px 0 10px; color: var(--secondary-text-color); white-space: pre-wrap; }
.attributes { display: flex; flex-direction: column; border-top: 1px solid var(--divider-color, rgba(127,127,127,.3)); }
.row { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; padding: 8px 0; border-bottom: 1px solid var(--divider-color, rgba(127,127,127,.3)); }
.row .label { color: var(--secondary-text-color); flex: 0 1 auto; }
.row .value { text-align: end; overflow-wrap: anywhere; flex: 1 1 auto; }
.row.note-row, .row.party, .row.image, .row.conversion { flex-direction: column; align-items: stretch; }
.row.note-row .value, .row.conversion .value { text-align: start; }
.note { white-space: pre-wrap; font-style: italic; }
.amount { font-weight: 600; font-size: 1.05em; font-variant-numeric: tabular-nums; }
.arrow { color: var(--secondary-text-color); padding: 0 4px; }
.heading { font-weight: 600; font-size: 1.05em; padding: 12px 0 4px; border-bottom: 1px solid var(--divider-color, rgba(127,127,127,.3)); }
.row.unknown .label { font-style: italic; }
.party-body { display: flex; gap: 12px; align-items: center; margin-top: 4px; }
.party-logo { width: 48px; height: 48px; object-fit: contain; border-radius: 8px; background: #fff; flex: none; }
.party-name { font-weight: 600; }
.party-description { color: var(--secondary-text-color); font-size: 0.9em; }
a { color: var(--primary-color); }
.thumbnail { display: block; max-width: 100%; max-height: 160px; margin-top: 4px; border-radius: 8px; }
.hint { font-size: 0.85em; color: var(--secondary-text-color); margin-top: 4px; }
.buttons { display: flex; gap: 8px; margin-top: 12px; }
.buttons > button { flex: 1 1 0; }
.buttons.single > button { flex: 1 1 auto; }
button { font: inherit; cursor: pointer; border-radius: 20px; padding: 10px 16px; min-height: 40px; border: 1px solid var(--primary-color); }
button.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
button.secondary { background: transparent; color: var(--primary-color); }
button:disabled { opacity: 0.45; cursor: default; }
button:focus-visible, input:focus-visible, .pin:focus-visible { outline: 2px solid var(--primary-color); outline-offset: 2px; }
.pre { border-radius: 10px; padding: 12px; margin-top: 10px; background: var(--card-background-color, transparent); border-left: 4px solid var(--info-color, var(--primary-color)); }
.pre.warning { border-left-color: var(--warning-color, #ffa600); }
.pre-heading { font-weight: 600; margin-bottom: 4px; }
.pre-message { white-space: pre-wrap; }
.pre ul { margin: 8px 0 0; padding-inline-start: 20px; }
.field { display: flex; flex-direction: column; gap: 4px; margin-top: 10px; }
.field small { color: var(--secondary-text-color); }
input[type=text] { font: inherit; padding: 10px; border-radius: 8px; border: 1px solid var(--divider-color, #888); background: var(--card-background-color, transparent); color: var(--primary-text-color); min-width: 0; }
.slider { display: flex; flex-direction: column; gap: 6px; margin-top: 12px; color: var(--secondary-text-color); }
.slider input { width: 100%; accent-color: var(--warning-color, var(--primary-color)); height: 32px; }
.pin { display: flex; flex-direction: column; align-items: center; gap: 8px; margin-top: 10px; outline: none; }
.pin-title { font-weight: 600; font-size: 1.05em; }
.pin-for { color: var(--secondary-text-color); font-size: 0.9em; text-align: center; }
.dots { display: flex; gap: 10px; min-height: 18px; margin: 6px 0; }
.dot { width: 14px; height: 14px; border-radius: 50%; border: 2px solid var(--primary-color); box-sizing: border-box; }
.dot.filled { background: var(--primary-color); }
.keypad { display: grid; grid-template-columns: repeat(3, 64px); gap: 10px; justify-content: center; }
.key { width: 64px; height: 64px; border-radius: 50%; font-size: 1.4em; padding: 0; border: 1px solid var(--divider-color, rgba(127,127,127,.4)); background: var(--card-background-color, transparent); color: var(--primary-text-color); }
.key.muted { font-size: 0.8em; color: var(--secondary-text-color); }
.pin .buttons { width: 100%; max-width: 260px; }
.error { margin-top: 8px; padding: 8px 10px; border-radius: 8px; color: var(--error-color, #db4437); background: rgba(219, 68, 55, 0.1); }
.attempts { font-weight: 600; }
.reject-form { margin-top: 10px; display: flex; flex-direction: column; gap: 8px; }
.reasons { display: flex; flex-direction: column; gap: 6px; }
.reason { display: flex; gap: 8px; align-items: center; padding: 6px 0; }
.reason input { accent-color: var(--primary-color); width: 18px; height: 18px; }
.busy { display: flex; align-items: center; gap: 10px; padding: 16px 0; color: var(--secondary-text-color); }
.spinner { width: 18px; height: 18px; border-radius: 50%; border: 3px solid var(--divider-color, #888); border-top-color: var(--primary-color); animation: spin 0.9s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.result { display: flex; flex-direction: column; align-items: center; text-align: center; gap: 4px; }
.result-icon { width: 44px; height: 44px; border-radius: 50%; display: grid; place-items: center; font-size: 1.5em; color: #fff; background: var(--success-color, #43a047); }
.result.rejected .result-icon { background: var(--secondary-text-color); }
.result.failed .result-icon { background: var(--error-color, #db4437); }
.result-title { font-weight: 600; font-size: 1.1em; }
.result-text { white-space: pre-wrap; }
.post { margin-top: 12px; border-top: 1px solid var(--divider-color, rgba(127,127,127,.3)); padding-top: 10px; }
.redirect-countdown { margin: 8px 0; color: var(--secondary-text-color); font-variant-numeric: tabular-nums; }
a.redirect { display: block; text-align: center; padding: 10px 16px; border-radius: 20px; background: var(--primary-color); color: var(--text-primary-color, #fff); text-decoration: none; }
pre.generic { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.8em; background: var(--card-background-color, transparent); padding: 8px; border-radius: 8px; }
@media (max-width: 420px) {
  .list { padding: 8px 8px 12px; }
  .item { padding: 12px; }
  .row { flex-direction: column; align-items: stretch; gap: 2px; }
  .row .value { text-align: start; }
  .keypad { grid-template-columns: repeat(3, 60px); }
  .key { width: 60px; height: 60px; }
}
`;

// --- the card -------------------------------------------------------------------------------

const BaseElement = globalThis.HTMLElement ?? class {};

function newUiState() {
  return { view: "detail", preDone: false, pin: "", proximity: "", reason: REJECT_REASONS[0], customReason: "", error: null, remaining: null, busyText: "", acceptBlockRisk: false, screenIndex: 0, screenOpenedAt: Date.now(), visits: [] };
}

export class MobileTokenCard extends BaseElement {
  constructor() {
    super();
    this._config = {};
    this._hass = null;
    this._operations = [];
    this._allowBiometry = false;
    this._status = "loading";
    this._loadError = null;
    this._entryId = null;
    this._ui = new Map();
    this._results = new Map();
    this._unsubscribe = null;
    this._subscribing = false;
    this._timer = null;
    this._language = "en";
    this._available = true;
    this._retryTimer = null;
  }

  static getConfigElement() {
    return document.createElement("mobile-token-card-editor");
  }

  static getStubConfig() {
    return {};
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    const changed = config.entry_id !== this._config.entry_id;
    this._config = { ...config };
    if (changed) this._resubscribe();
    this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    const language = pickLanguage(hass?.locale?.language ?? hass?.language);
    const languageChanged = language !== this._language;
    this._language = language;
    // Home Assistant sets hass on every state change: subscribe once; the connection
    // re-subscribes by itself after a reconnect, and failures retry on their own schedule.
    if (first) this._subscribe();
    if (first || languageChanged) this._render(true);
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    return 2 + 4 * Math.max(1, this._operations.length);
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    this._ensureDom();
    if (!this._timer) this._timer = setInterval(() => this._tick(), TICK_MS);
    this._subscribe();
    this._render(true);
  }

  disconnectedCallback() {
    clearInterval(this._timer);
    clearTimeout(this._retryTimer);
    this._timer = null;
    this._dropSubscription();
  }

  // --- subscription ---

  async _resolveEntryId() {
    if (this._config.entry_id) return this._config.entry_id;
    const entries = await this._hass.connection.sendMessagePromise({ type: "config_entries/get", domain: DOMAIN });
    const loaded = entries.find((entry) => entry.state === "loaded") ?? entries[0];
    return loaded?.entry_id ?? null;
  }

  async _subscribe() {
    if (!this._hass || !this.isConnected || this._unsubscribe || this._subscribing) return;
    this._subscribing = true;
    try {
      this._entryId = await this._resolveEntryId();
      if (!this._entryId) {
        this._status = "no-entry";
        return;
      }
      const entryId = this._entryId;
      this._unsubscribe = await this._hass.connection.subscribeMessage(
        (event) => this._onUpdate(entryId, event),
        { type: WS_SUBSCRIBE, entry_id: entryId },
      );
      if (!this.isConnected) this._dropSubscription();
      else this._refresh();
    } catch (error) {
      this._status = "error";
      this._loadError = errorText(this._language, error);
      if (errorCode(error) === "entry_not_loaded") this._scheduleRetry();
    } finally {
      this._subscribing = false;
      this._render();
    }
  }

  _scheduleRetry() {
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      if (this.isConnected && this._status === "error") this._resubscribe();
    }, RETRY_MS);
  }

  _dropSubscription() {
    const unsubscribe = this._unsubscribe;
    this._unsubscribe = null;
    if (unsubscribe) Promise.resolve(unsubscribe()).catch(() => {});
  }

  _resubscribe() {
    this._dropSubscription();
    this._operations = [];
    this._status = "loading";
    this._subscribe();
  }

  _onUpdate(entryId, event) {
    if (entryId !== this._entryId) return;
    if (event?.loaded === false) {
      // The entry was unloaded or reloaded: its coordinator is gone, subscribe again.
      this._dropSubscription();
      this._status = "error";
      this._loadError = localize(this._language, "error_entry_not_loaded");
      this._scheduleRetry();
      this._render();
      return;
    }
    this._available = event?.available !== false;
    // The server's clock: expiry counts down on it, whatever the browser's clock says.
    if (Number.isFinite(event?.serverTime)) this._clockOffset = event.serverTime - Date.now();
    this._unread = Number.isInteger(event?.unreadMessages) ? event.unreadMessages : null;
    this._operations = Array.isArray(event?.operations) ? event.operations : [];
    this._allowBiometry = Boolean(event?.allowBiometry);
    this._status = "ready";
    const pending = new Set(this._operations.map((operation) => operation.id));
    for (const id of this._ui.keys()) {
      if (!pending.has(id) && this._ui.get(id).view !== "busy") this._ui.delete(id);
    }
    this._render();
  }

  /** Now on the server's clock (the browser's clock may be wrong; the integration knows the offset). */
  _serverNow() {
    return Date.now() + (this._clockOffset ?? 0);
  }

  // --- state changes ---

  _state(operationId) {
    // Times of the UI state are on the server's clock, like the countdowns.
    if (!this._ui.has(operationId)) this._ui.set(operationId, { ...newUiState(), screenOpenedAt: this._serverNow() });
    return this._ui.get(operationId);
  }

  _operation(operationId) {
    return this._operations.find((operation) => operation.id === operationId);
  }

  _update(operationId, changes) {
    Object.assign(this._state(operationId), changes);
    this._render();
  }

  _onClick(event) {
    const target = event.composedPath().find((node) => node?.dataset?.action);
    if (!target || target.disabled) return;
    const { action, op: operationId, digit } = target.dataset;
    const handlers = {
      retry: () => this._resubscribe(),
      dismiss: () => {
        this._results.delete(operationId);
        this._render();
      },
      "pre-continue": () => this._continuePreApproval(operationId),
      "pre-back": () => this._backPreApproval(operationId),
      "open-messages": () => this._openMessages(),
      refresh: () => this._refresh(),
      "messages-open": () => this._openMessages(),
      "message-open": () => this._openMessage(operationId),
      "messages-read-all": () => this._readAll(),
      "open-claim": () => this._show("claim", { _claim: {} }),
      "list-back": () => this._show("list", {}),
      "claim-submit": () => this._submitClaim(),
      "claim-scan": () => this._scanInto("claim"),
      "proximity-scan": () => this._scanInto("proximity", operationId),
      approve: () => this._startApproval(operationId),
      reject: () => this._update(operationId, { view: "reject", error: null }),
      "reject-cancel": () => this._update(operationId, { view: "detail", error: null }),
      "reject-confirm": () => this._reject(operationId),
      "pin-digit": () => this._typeDigit(operationId, digit),
      "pin-back": () => this._update(operationId, { pin: this._state(operationId).pin.slice(0, -1) }),
      "pin-cancel": () => this._update(operationId, { view: "detail", pin: "", error: null, remaining: null }),
      "pin-submit": () => this._submitPin(operationId),
      "approve-biometry": () => this._approve(operationId, { factor: FACTOR_BIOMETRY }),
    };
    handlers[action]?.();
  }

  _onInput(event) {
    const target = event.composedPath()[0];
    const kind = target?.dataset?.input;
    if (!kind) return;
    const state = this._state(target.dataset.op);
    if (kind === "proximity") {
      state.proximity = target.value;
      state.proximityAt = Date.now();
    }
    else if (kind === "custom-reason") state.customReason = target.value;
    else if (kind === "reason") this._update(target.dataset.op, { reason: target.value });
    else if (kind === "slider" && Number(target.value) >= 100) this._continuePreApproval(target.dataset.op);
    else if (kind === "claim") this._claim = { ...(this._claim ?? {}), text: target.value };
  }

  // --- messages, claim, scanner, refresh ---

  _show(view, changes) {
    Object.assign(this, changes);
    this._view = view;
    this._render();
  }

  async _ws(message) {
    return this._hass.connection.sendMessagePromise({ ...message, entry_id: this._entryId });
  }

  async _openMessages() {
    try {
      const result = await this._ws({ type: WS_MESSAGES });
      this._show("messages", { _messages: { messages: result.messages } });
    } catch (error) {
      this._show("messages", { _messages: { error: errorText(this._language, error) } });
    }
  }

  async _openMessage(messageId) {
    try {
      const result = await this._ws({ type: WS_MESSAGES, message_id: messageId });
      const open = result.messages[0];
      this._show("messages", { _messages: { ...this._messages, open } });
      if (open && !open.read) {
        const read = await this._ws({ type: WS_MESSAGE_READ, message_id: messageId });
        this._unread = read.unread;
        this._render();
      }
    } catch (error) {
      this._show("messages", { _messages: { error: errorText(this._language, error) } });
    }
  }

  async _readAll() {
    try {
      const read = await this._ws({ type: WS_MESSAGE_READ });
      this._unread = read.unread;
      await this._openMessages();
    } catch (error) {
      this._show("messages", { _messages: { error: errorText(this._language, error) } });
    }
  }

  async _submitClaim() {
    const operationId = claimOperationId(this._claim?.text);
    if (!operationId) {
      this._show("claim", { _claim: { ...this._claim, error: localize(this._language, "claim_invalid"), done: false } });
      return;
    }
    try {
      await this._ws({ type: WS_CLAIM, operation_id: operationId });
      this._show("list", { _claim: {} });
    } catch (error) {
      this._show("claim", { _claim: { ...this._claim, error: errorText(this._language, error), done: false } });
    }
  }

  /** Fill the claim or proximity field from the companion app's camera. */
  async _scanInto(field, operationId) {
    const text = await scanBankCode(this._hass, this._language);
    if (text === null) return;
    if (field === "claim") {
      this._claim = { text };
      await this._submitClaim();
    } else {
      Object.assign(this._state(operationId), { proximity: text, proximityAt: Date.now() });
      this._continuePreApproval(operationId);
    }
  }

  /** Fetch the list now and show that it is loading (the SDK's isLoadingOperations). */
  async _refresh() {
    this._refreshing = true;
    this._render();
    try {
      await this._ws({ type: WS_REFRESH });
    } catch {
      // The subscription reports an unavailable server; nothing to add here.
    } finally {
      this._refreshing = false;
      this._render();
    }
  }

  _onKeyDown(event) {
    const pad = event.composedPath().find((node) => node?.dataset?.pinPad);
    if (!pad) return;
    const operationId = pad.dataset.pinPad;
    if (/^\d$/.test(event.key)) this._typeDigit(operationId, event.key);
    else if (event.key === "Backspace") this._update(operationId, { pin: this._state(operationId).pin.slice(0, -1) });
    else if (event.key === "Enter") this._submitPin(operationId);
    else return;
    event.preventDefault();
  }

  _typeDigit(operationId, digit) {
    const state = this._state(operationId);
    if (state.pin.length < MAX_PIN_LENGTH) this._update(operationId, { pin: state.pin + digit });
  }

  _continuePreApproval(operationId) {
    const operation = this._operation(operationId);
    const state = this._state(operationId);
    const screens = operation ? screensOf(operation) : [];
    const index = Math.min(state.screenIndex ?? 0, Math.max(screens.length - 1, 0));
    const screen = screens[index];
    if (screen?.type === "QR_SCAN" && !proximityFields(state.proximity)) {
      this._update(operationId, { error: localize(this._language, "error_proximity_required") });
      return;
    }
    const now = this._serverNow();
    const visits = [...state.visits];
    if (screen?.id) {
      visits.push({
        screen: screen.id,
        timestampOpened: new Date(state.screenOpenedAt).toISOString(),
        timestampClosed: new Date(now).toISOString(),
        action: screen.type === "QR_SCAN" ? "SCAN" : "CONTINUE",
      });
    }
    if (index + 1 < screens.length) {
      this._update(operationId, { screenIndex: index + 1, screenOpenedAt: now, visits, error: null });
      return;
    }
    this._update(operationId, { preDone: true, visits, error: null });
  }

  /** Back to the previous pre-approval screen; the visit is recorded as BACK. */
  _backPreApproval(operationId) {
    const operation = this._operation(operationId);
    const state = this._state(operationId);
    const screens = operation ? screensOf(operation) : [];
    const index = Math.min(state.screenIndex ?? 0, Math.max(screens.length - 1, 0));
    if (index === 0) return;
    const now = this._serverNow();
    const screen = screens[index];
    const visits = screen?.id
      ? [...state.visits, { screen: screen.id, timestampOpened: new Date(state.screenOpenedAt).toISOString(), timestampClosed: new Date(now).toISOString(), action: "BACK" }]
      : state.visits;
    this._update(operationId, { screenIndex: index - 1, screenOpenedAt: now, visits, error: null });
  }

  _startApproval(operationId) {
    const operation = this._operation(operationId);
    if (!operation) return;
    const mode = approvalMode(operation);
    if (mode === "pin") this._update(operationId, { view: "pin", pin: "", error: null, remaining: null });
    else if (mode === "biometry") this._approve(operationId, { factor: FACTOR_BIOMETRY });
    else if (mode === "possession") this._approve(operationId, {});
  }

  _submitPin(operationId) {
    const pin = this._state(operationId).pin;
    const state = this._state(operationId);
    if (pin.length >= MIN_PIN_LENGTH) this._approve(operationId, { pin, acceptBlockRisk: state.acceptBlockRisk });
  }

  async _approve(operationId, credentials) {
    const operation = this._operation(operationId);
    if (!operation) return;
    const state = this._state(operationId);
    const proximity = requiresProximity(operation) ? proximityFields(state.proximity) : null;
    const previousView = state.view;
    this._update(operationId, { view: "busy", busyText: "working_approve", pin: "", error: null });
    try {
      await this._hass.connection.sendMessagePromise(
        approveMessage(this._entryId, operationId, { ...credentials, proximity, visits: this._state(operationId).visits, proximityAt: state.proximityAt }),
      );
      this._finish(operation, "approved");
    } catch (error) {
      this._failed(operation, error, previousView);
    }
  }

  async _reject(operationId) {
    const operation = this._operation(operationId);
    if (!operation) return;
    const state = this._state(operationId);
    this._update(operationId, { view: "busy", busyText: "working_reject", error: null });
    try {
      await this._hass.connection.sendMessagePromise(
        rejectMessage(this._entryId, operationId, state.reason, state.customReason, state.visits),
      );
      this._finish(operation, "rejected");
    } catch (error) {
      this._failed(operation, error, "reject");
    }
  }

  _finish(operation, outcome, message = null) {
    const countdown = Number(operation.ui?.postApprovalScreen?.payload?.countdown) || 0;
    this._results.set(operation.id, { operation, outcome, message, redirectUntil: this._serverNow() + countdown * 1000 });
    this._ui.delete(operation.id);
    this._render();
  }

  _failed(operation, error, previousView) {
    const code = errorCode(error);
    const message = errorText(this._language, error);
    if (FINAL_ERRORS.has(code)) {
      this._finish(operation, "failed", message);
      return;
    }
    // Refusals that no other PIN changes leave the PIN pad (the reason shows on the detail).
    const pinView = code === "wrong_pin" || (previousView === "pin" && !["not_allowed", "blocked_on_call"].includes(code));
    this._update(operation.id, {
      view: pinView ? "pin" : previousView === "reject" ? "reject" : "detail",
      error: message,
      remaining: code === "wrong_pin" ? remainingAttempts(error) : null,
      acceptBlockRisk: code === "block_risk",
      preDone: PROXIMITY_ERRORS.has(code) ? false : this._state(operation.id).preDone,
    });
  }

  // --- DOM ---

  _ensureDom() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${STYLES}</style><ha-card><div class="mt-header"><span class="card-title"></span><span class="badge" hidden></span><span class="mt-tools"><button type="button" class="tool" data-action="refresh"></button><button type="button" class="tool" data-action="open-claim"></button><button type="button" class="tool" data-action="open-messages"></button></span></div><div class="progress" hidden role="progressbar"></div><div class="list"></div><mobile-token-tools></mobile-token-tools></ha-card>`;
    root.addEventListener("click", (event) => this._onClick(event));
    root.addEventListener("input", (event) => this._onInput(event));
    root.addEventListener("change", (event) => this._onInput(event));
    root.addEventListener("keydown", (event) => this._onKeyDown(event));
    // A party's logo is decoration: one the browser cannot load is hidden, not shown broken.
    root.addEventListener("error", (event) => {
      if (event.target?.classList?.contains("party-logo")) event.target.hidden = true;
    }, true);
  }

  _blocks() {
    const language = this._language;
    const now = this._serverNow();
    const blocks = [];
    if (this._view === "messages") return [{ key: "messages", html: messagesView(this._messages ?? {}, language) }];
    if (this._view === "claim") return [{ key: "claim", html: claimView(this._claim ?? {}, language, hasScanner(this._hass)) }];
    for (const result of this._results.values()) {
      blocks.push({ key: `result:${result.operation.id}`, html: renderResult(result, language) });
    }
    if (this._status === "loading") blocks.push({ key: "state", html: `<div class="state">${esc(localize(language, "loading"))}</div>`, bare: true });
    else if (this._status === "no-entry") blocks.push({ key: "state", html: `<div class="state">${esc(localize(language, "no_entry"))}</div>`, bare: true });
    else if (this._status === "error") {
      blocks.push({
        key: "state",
        bare: true,
        html: `<div class="state error-state" role="alert">${esc(localize(language, "load_failed", { message: this._loadError }))}<div class="buttons single">${button("retry", "", localize(language, "retry"))}</div></div>`,
      });
    } else {
      if (!this._available) {
        blocks.push({ key: "unavailable", bare: true, html: `<div class="error" role="status">${esc(localize(language, "server_unavailable"))}</div>` });
      }
      const visible = this._operations.filter((operation) => !this._results.has(operation.id));
      for (const operation of visible) {
        const state = { ...this._state(operation.id), scanner: hasScanner(this._hass) };
        blocks.push({ key: `op:${operation.id}`, html: renderOperation(operation, state, language, now) });
      }
      if (!visible.length && !this._results.size) {
        blocks.push({ key: "state", html: `<div class="state empty">${esc(localize(language, "empty"))}</div>`, bare: true });
      }
    }
    return blocks;
  }

  /** Keyed update: blocks whose HTML did not change keep their DOM (focus, typed text, slider). */
  _render(force = false) {
    if (!this.shadowRoot) return;
    const root = this.shadowRoot;
    root.querySelector(".card-title").textContent = this._config.title || localize(this._language, "title");
    const badge = root.querySelector(".badge");
    badge.hidden = !this._operations.length;
    badge.textContent = String(this._operations.length);
    root.querySelector('[data-action="open-messages"]').textContent = this._unread
      ? localize(this._language, "messages_unread", { count: this._unread })
      : localize(this._language, "messages");
    root.querySelector('[data-action="open-claim"]').textContent = localize(this._language, "claim");
    const refresh = root.querySelector('[data-action="refresh"]');
    refresh.textContent = "↻";
    refresh.title = localize(this._language, "refresh");
    refresh.setAttribute("aria-label", refresh.title);
    refresh.disabled = Boolean(this._refreshing);
    const progress = root.querySelector(".progress");
    progress.hidden = !this._refreshing;
    progress.setAttribute("aria-label", localize(this._language, "refreshing"));
    const list = root.querySelector(".list");
    const existing = new Map([...list.children].map((node) => [node.dataset.key, node]));
    let previous = null;
    for (const block of this._blocks()) {
      let node = existing.get(block.key);
      existing.delete(block.key);
      if (!node) {
        node = document.createElement("div");
        node.dataset.key = block.key;
      }
      node.className = block.bare ? "" : "item";
      if (force || node._html !== block.html) {
        node.innerHTML = block.html;
        node._html = block.html;
      }
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (node !== expected) list.insertBefore(node, expected);
      previous = node;
    }
    for (const node of existing.values()) node.remove();
    root.querySelector("mobile-token-tools")?.setContext?.({
      hass: this._hass,
      entryId: this._entryId,
      language: this._language,
      allowBiometry: this._allowBiometry,
      ready: this._status === "ready",
    });
    this._tick(true);
    this._focusPinPad();
  }

  _focusPinPad() {
    const pad = this.shadowRoot.querySelector("[data-pin-pad]");
    if (pad && !this.shadowRoot.activeElement) pad.focus({ preventScroll: true });
  }

  /** Once a second: countdown texts only; a newly expired operation re-renders to disable Approve. */
  _tick(fromRender = false) {
    if (!this.shadowRoot) return;
    const now = this._serverNow();
    let crossed = false;
    for (const node of this.shadowRoot.querySelectorAll("[data-expires]")) {
      const remaining = Number(node.dataset.expires) - now;
      const text = formatCountdown(remaining);
      node.textContent = text ? localize(this._language, "expires_in", { time: text }) : localize(this._language, "expired");
      node.classList.toggle("soon", remaining > 0 && remaining < 60000);
      if (!text && !node.classList.contains("expired")) crossed = true;
    }
    for (const node of this.shadowRoot.querySelectorAll("[data-redirect-until]")) {
      const seconds = Math.ceil((Number(node.dataset.redirectUntil) - now) / 1000);
      node.textContent = seconds > 0 ? localize(this._language, "redirect_in", { seconds }) : localize(this._language, "redirect_now");
    }
    // A pre-approval screen's approve control counting down re-renders every second.
    if (crossed || (!fromRender && this.shadowRoot.querySelector("[data-waiting]"))) this._render();
  }
}

// --- the visual editor -------------------------------------------------------------------

export class MobileTokenCardEditor extends BaseElement {
  constructor() {
    super();
    this._config = {};
    this._hass = null;
    this._entries = null;
  }

  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) this._loadEntries();
  }

  async _loadEntries() {
    try {
      this._entries = await this._hass.connection.sendMessagePromise({ type: "config_entries/get", domain: DOMAIN });
    } catch {
      this._entries = [];
    }
    this._render();
  }

  _render() {
    if (!this._hass) return;
    if (!this.shadowRoot) {
      const root = this.attachShadow({ mode: "open" });
      root.addEventListener("change", (event) => this._changed(event));
    }
    const language = pickLanguage(this._hass.locale?.language ?? this._hass.language);
    const options = (this._entries ?? [])
      .map((entry) => `<option value="${esc(entry.entry_id)}"${entry.entry_id === this._config.entry_id ? " selected" : ""}>${esc(entry.title)}</option>`)
      .join("");
    this.shadowRoot.innerHTML = `<style>
      .form { display: flex; flex-direction: column; gap: 12px; }
      label { display: flex; flex-direction: column; gap: 4px; color: var(--secondary-text-color); }
      select, input { font: inherit; padding: 8px; border-radius: 6px; border: 1px solid var(--divider-color, #888); background: var(--card-background-color, transparent); color: var(--primary-text-color); }
    </style><div class="form">
      <label>${esc(localize(language, "editor_entry"))}
        <select data-field="entry_id"><option value="">${esc(localize(language, "editor_entry_auto"))}</option>${options}</select></label>
      <label>${esc(localize(language, "editor_title"))}
        <input type="text" data-field="title" value="${esc(this._config.title ?? "")}"></label>
    </div>`;
  }

  _changed(event) {
    const field = event.composedPath()[0]?.dataset?.field;
    if (!field) return;
    const config = { ...this._config };
    const value = event.composedPath()[0].value.trim();
    if (value) config[field] = value;
    else delete config[field];
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }
}

if (globalThis.customElements) {
  defineElements([
    ["mobile-token-card", MobileTokenCard],
    ["mobile-token-card-editor", MobileTokenCardEditor],
    ["mobile-token-tools", MobileTokenTools],
  ]);
  window.customCards = window.customCards || [];
  if (!window.customCards.some((card) => card.type === "mobile-token-card")) {
    window.customCards.push({
      type: "mobile-token-card",
      name: localize(navigator.language, "title"),
      description: localize(navigator.language, "card_description"),
      preview: false,
    });
  }
}
