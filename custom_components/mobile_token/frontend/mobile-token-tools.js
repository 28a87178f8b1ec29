/**
 * The mobile token card's tools below the pending list: the operation history,
 * offline (QR) signing and removing the token at the bank. Each asks for the
 * PIN on its own pad and sends it only over the integration's websocket
 * commands (mobile_token/history, /sign_offline_qr, /remove_activation): no
 * action takes a PIN, because action data is recorded.
 *
 * The pure helpers are exported for the unit tests in tests/card.
 */
import { FACTOR_BIOMETRY, MAX_PIN_LENGTH, MIN_PIN_LENGTH, escapeHtml as esc, localize } from "./mobile-token-card.js";
import { statusReasonText } from "./mt-sdk2.js";
import { hasScanner, scanBankCode } from "./mt-scanner.js";

export const WS_HISTORY = "mobile_token/history";
export const WS_SIGN_OFFLINE_QR = "mobile_token/sign_offline_qr";
export const WS_REMOVE_ACTIVATION = "mobile_token/remove_activation";
export const TOOLS = ["history", "offline", "remove"];

export const TOOL_STRINGS = {
  en: {
    tool_history: "History",
    tool_offline: "Offline QR code",
    tool_remove: "Remove this token at the bank",
    close: "Close",
    cancel: "Cancel",
    confirm: "Confirm",
    pin_title: "Enter your PIN",
    pin_delete: "Delete last digit",
    without_pin: "Without PIN",
    pin_for_history: "to show the history",
    pin_for_offline: "to sign the offline operation",
    pin_for_remove: "to remove this token at the bank",
    history_empty: "No operations in the history.",
    status_PENDING: "Waiting",
    status_APPROVED: "Approved",
    status_REJECTED: "Rejected",
    status_CANCELED: "Canceled",
    status_EXPIRED: "Expired",
    status_FAILED: "Failed",
    offline_label: "Text of the bank's QR code",
    offline_hint: "Paste the text of the offline QR code your bank shows.",
    offline_continue: "Continue",
    offline_code: "Approval code",
    offline_warning: "Type this code where the QR code is shown. A wrong PIN still gives a code: the bank refuses it when you type it in.",
    remove_warning: "The bank forgets this token and Home Assistant deletes its keys. You cannot undo this: to use the token again you need a new activation code.",
    remove_done: "The token was removed at the bank.",
    working: "Working…",
    attempts_left: "Attempts left: {count}",
    error_block_risk: "This is your last attempt: a wrong PIN blocks the token. Type the PIN again to try it.",
    error_wrong_pin: "Wrong PIN.",
    error_invalid_qr: "This is not an offline QR code of your bank.",
    error_invalid_qr_signature: "This QR code is not signed by your bank: it may be forged. Do not approve it.",
    error_counter_ahead: "Too many offline codes without reaching the bank: connect once, then try again.",
    error_cannot_connect: "The bank's server cannot be reached. Try again.",
    error_activation_blocked: "The token is blocked. Unblock it in your bank's app.",
    error_not_allowed: "You are not allowed to use this token.",
  },
  cs: {
    tool_history: "Historie",
    tool_offline: "Offline QR kód",
    tool_remove: "Odebrat tento token v bance",
    close: "Zavřít",
    cancel: "Zrušit",
    confirm: "Potvrdit",
    pin_title: "Zadejte PIN",
    pin_delete: "Smazat poslední číslici",
    without_pin: "Bez PINu",
    pin_for_history: "pro zobrazení historie",
    pin_for_offline: "pro podpis offline operace",
    pin_for_remove: "pro odebrání tohoto tokenu v bance",
    history_empty: "V historii nejsou žádné operace.",
    status_PENDING: "Čeká",
    status_APPROVED: "Schváleno",
    status_REJECTED: "Zamítnuto",
    status_CANCELED: "Zrušeno",
    status_EXPIRED: "Vypršelo",
    status_FAILED: "Selhalo",
    offline_label: "Text QR kódu banky",
    offline_hint: "Vložte text offline QR kódu, který ukazuje vaše banka.",
    offline_continue: "Pokračovat",
    offline_code: "Schvalovací kód",
    offline_warning: "Opište tento kód tam, kde je zobrazen QR kód. I chybný PIN dá kód: banka ho při zadání odmítne.",
    remove_warning: "Banka tento token zapomene a Home Assistant smaže jeho klíče. Nelze to vrátit: pro další použití budete potřebovat nový aktivační kód.",
    remove_done: "Token byl v bance odebrán.",
    working: "Pracuji…",
    attempts_left: "Zbývající pokusy: {count}",
    error_block_risk: "Toto je poslední pokus: chybný PIN token zablokuje. Pro pokus zadejte PIN znovu.",
    error_wrong_pin: "Chybný PIN.",
    error_invalid_qr: "Toto není offline QR kód vaší banky.",
    error_invalid_qr_signature: "Tento QR kód není podepsán vaší bankou: může být podvržený. Neschvalujte ho.",
    error_counter_ahead: "Příliš mnoho offline kódů bez spojení s bankou: jednou se spojte a pak to zkuste znovu.",
    error_cannot_connect: "Server banky není dostupný. Zkuste to znovu.",
    error_activation_blocked: "Token je zablokovaný. Odblokujte ho v aplikaci banky.",
    error_not_allowed: "Tento token nesmíte používat.",
  },
};

export function toolText(language, key, vars = {}) {
  const table = TOOL_STRINGS[language] ?? TOOL_STRINGS.en;
  const text = table[key] ?? TOOL_STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** The PIN or the factor, with the block-risk consent only after the integration asked for it. */
function credentials({ pin, factor, acceptBlockRisk }) {
  if (pin) return acceptBlockRisk ? { pin, accept_block_risk: true } : { pin };
  return factor ? { factor } : {};
}

/** The websocket message of a tool, from what the user entered. */
export function toolMessage(tool, entryId, input) {
  if (tool === "history") return { type: WS_HISTORY, entry_id: entryId, ...credentials(input) };
  if (tool === "offline") {
    const { accept_block_risk: _unused, ...signed } = credentials(input);
    return { type: WS_SIGN_OFFLINE_QR, entry_id: entryId, qr: String(input.qr ?? ""), ...signed };
  }
  return { type: WS_REMOVE_ACTIVATION, entry_id: entryId, ...credentials(input) };
}

/** The text for an error: the tools' own translation when known, else the server's message. */
export function toolErrorText(language, error) {
  const code = error?.translation_key || error?.code || "unknown";
  const key = `error_${code}`;
  if (key in TOOL_STRINGS.en) return toolText(language, key);
  return error?.message || String(error ?? "");
}

function button(action, label, { primary = false, disabled = false } = {}) {
  return `<button type="button" class="btn${primary ? " primary" : ""}" data-tool-action="${action}"${disabled ? " disabled" : ""}>${esc(label)}</button>`;
}

export function renderPinPad(tool, state, language, allowBiometry) {
  const dots = Array.from({ length: Math.max(MIN_PIN_LENGTH, state.pin.length) }, (_, i) =>
    `<span class="dot${i < state.pin.length ? " filled" : ""}"></span>`,
  ).join("");
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    .map((digit) => `<button type="button" class="key" data-tool-action="digit" data-digit="${digit}">${digit}</button>`)
    .join("");
  const remaining = state.remaining !== null && state.remaining !== undefined
    ? `<div class="remaining">${esc(toolText(language, "attempts_left", { count: state.remaining }))}</div>`
    : "";
  return `<div class="pin" tabindex="0" data-tool-pad="${tool}">
    <div class="pin-title">${esc(toolText(language, "pin_title"))}</div>
    <div class="pin-for">${esc(toolText(language, `pin_for_${tool}`))}</div>
    <div class="dots">${dots}</div>
    ${state.error ? `<div class="error" role="alert">${esc(state.error)}</div>` : ""}${remaining}
    <div class="keypad">${keys}
      <button type="button" class="key muted" data-tool-action="close">${esc(toolText(language, "cancel"))}</button>
      <button type="button" class="key" data-tool-action="digit" data-digit="0">0</button>
      <button type="button" class="key muted" data-tool-action="back" aria-label="${esc(toolText(language, "pin_delete"))}">⌫</button>
    </div>
    <div class="buttons">${button("submit", toolText(language, "confirm"), { primary: true, disabled: state.pin.length < MIN_PIN_LENGTH })}
    ${allowBiometry ? button("biometry", toolText(language, "without_pin")) : ""}</div>
  </div>`;
}

/** An operation's status in words when the card knows it; the bank's own code otherwise. */
function statusText(language, status) {
  const key = `status_${status}`;
  return key in TOOL_STRINGS.en ? toolText(language, key) : String(status ?? "");
}

/** One history row: title, status and, when the bank gives one, the status reason. */
export function renderHistoryItem(operation, language) {
  const title = operation?.formData?.title || operation?.name || operation?.id || "";
  const reasonText = statusReasonText(operation, language);
  const reason = reasonText ? `<div class="status-reason">${esc(reasonText)}</div>` : "";
  return `<li class="history-item"><div class="history-title">${esc(title)}</div>
    <div class="history-status">${esc(statusText(language, operation?.status))}</div>${reason}</li>`;
}

export function renderHistory(operations, language) {
  if (!operations.length) return `<div class="empty">${esc(toolText(language, "history_empty"))}</div>`;
  return `<ul class="history">${operations.map((operation) => renderHistoryItem(operation, language)).join("")}</ul>`;
}

export function renderOfflineCode(result, language) {
  const operation = result?.operation ?? {};
  return `<div class="offline-result">
    <div class="history-title">${esc(operation.title ?? "")}</div>
    <div class="label">${esc(toolText(language, "offline_code"))}</div>
    <div class="offline-code" aria-live="polite">${esc(result?.code ?? "")}</div>
    <div class="warning" role="note">${esc(toolText(language, "offline_warning"))}</div>
  </div>`;
}

/** The whole tools area for the state it is in; `scanner` offers the app's camera for the QR code. */
export function renderTools(state, language, allowBiometry, scanner = false) {
  const close = button("close", toolText(language, "close"));
  if (!state.tool) {
    return `<div class="buttons">${TOOLS.map((tool) => button(`open-${tool}`, toolText(language, `tool_${tool}`))).join("")}</div>`;
  }
  if (state.view === "busy") return `<div class="busy" role="status">${esc(toolText(language, "working"))}</div>`;
  if (state.view === "result") {
    if (state.tool === "history") return renderHistory(state.result?.operations ?? [], language) + `<div class="buttons">${close}</div>`;
    if (state.tool === "offline") return renderOfflineCode(state.result, language) + `<div class="buttons">${close}</div>`;
    return `<div class="done">${esc(toolText(language, "remove_done"))}</div>`;
  }
  if (state.tool === "offline" && state.view === "qr") {
    return `<label class="label" for="offline-qr">${esc(toolText(language, "offline_label"))}</label>
      <textarea id="offline-qr" data-tool-input="qr" rows="4" autocomplete="off">${esc(state.qr)}</textarea>
      <div class="hint">${esc(toolText(language, "offline_hint"))}</div>
      ${state.error ? `<div class="error" role="alert">${esc(state.error)}</div>` : ""}
      <div class="buttons">${close}${scanner ? button("offline-scan", localize(language, "scan")) : ""}${button("offline-continue", toolText(language, "offline_continue"), { primary: true, disabled: !state.qr.trim() })}</div>`;
  }
  const warning = state.tool === "remove"
    ? `<div class="warning" role="note">${esc(toolText(language, "remove_warning"))}</div>`
    : "";
  return warning + renderPinPad(state.tool, state, language, allowBiometry);
}

const STYLES = `
:host { display: block; }
.tools { padding: 0 16px 16px; border-top: 1px solid var(--divider-color, #e0e0e0); }
.buttons { display: flex; flex-wrap: wrap; gap: 8px; justify-content: center; margin-top: 12px; }
.btn { padding: 8px 16px; border-radius: 18px; border: 1px solid var(--primary-color); background: transparent; color: var(--primary-color); font: inherit; cursor: pointer; }
.btn.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
.btn[disabled] { opacity: 0.5; cursor: default; }
.pin { text-align: center; outline: none; }
.pin-title { font-weight: 500; margin-top: 12px; }
.pin-for, .hint, .empty, .done, .busy { color: var(--secondary-text-color); margin: 6px 0; text-align: center; }
.dots { display: flex; justify-content: center; gap: 10px; margin: 12px 0; }
.dot { width: 12px; height: 12px; border-radius: 50%; border: 2px solid var(--primary-text-color); }
.dot.filled { background: var(--primary-text-color); }
.keypad { display: grid; grid-template-columns: repeat(3, 64px); gap: 10px; justify-content: center; }
.key { width: 64px; height: 64px; border-radius: 50%; border: none; background: var(--secondary-background-color, #f2f2f2); color: var(--primary-text-color); font-size: 1.4em; cursor: pointer; }
.key.muted { font-size: 0.9em; background: transparent; }
.error { color: var(--error-color, #db4437); margin: 8px 0; }
.remaining { color: var(--warning-color, #ffa600); }
.warning { background: var(--warning-color, #ffa600); color: #000; padding: 8px 12px; border-radius: 8px; margin: 12px 0; }
textarea { width: 100%; box-sizing: border-box; font-family: monospace; margin-top: 6px; padding: 8px; border: 1px solid var(--divider-color, #e0e0e0); border-radius: 8px; background: var(--card-background-color, #fff); color: var(--primary-text-color); }
.history { list-style: none; padding: 0; margin: 12px 0 0; }
.history-item { padding: 8px 0; border-bottom: 1px solid var(--divider-color, #e0e0e0); }
.history-title { font-weight: 500; }
.history-status, .status-reason, .label { color: var(--secondary-text-color); font-size: 0.9em; }
.offline-result { text-align: center; margin-top: 12px; }
.offline-code { font-size: 2.4em; letter-spacing: 0.12em; font-family: monospace; margin: 8px 0; user-select: all; overflow-wrap: anywhere; }
`;

const BaseElement = globalThis.HTMLElement ?? class {};

function newToolState() {
  return { tool: null, view: "pin", pin: "", qr: "", error: null, remaining: null, acceptBlockRisk: false, result: null };
}

/**
 * <mobile-token-tools>: the card gives it the connection and entry through setContext(), and
 * defines it with its own elements (define-elements.js).
 */
export class MobileTokenTools extends BaseElement {
  constructor() {
    super();
    this._context = { hass: null, entryId: null, language: "en", allowBiometry: false, ready: false };
    this._state = newToolState();
  }

  setContext(context) {
    const before = JSON.stringify({ ...this._context, hass: null });
    this._context = { ...this._context, ...context };
    if (before !== JSON.stringify({ ...this._context, hass: null })) this._render();
  }

  connectedCallback() {
    if (!this.shadowRoot) {
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = `<style>${STYLES}</style><div class="tools"></div>`;
      root.addEventListener("click", (event) => this._onClick(event));
      root.addEventListener("input", (event) => this._onInput(event));
      root.addEventListener("keydown", (event) => this._onKeyDown(event));
    }
    this._render();
  }

  _set(changes) {
    Object.assign(this._state, changes);
    this._render();
  }

  _onClick(event) {
    const target = event.composedPath().find((node) => node?.dataset?.toolAction);
    if (!target || target.disabled) return;
    const action = target.dataset.toolAction;
    if (action.startsWith("open-")) {
      const tool = action.slice("open-".length);
      this._state = { ...newToolState(), tool, view: tool === "offline" ? "qr" : "pin" };
      this._render();
    } else if (action === "close") {
      this._state = newToolState();
      this._render();
    } else if (action === "digit") this._typeDigit(target.dataset.digit);
    else if (action === "back") this._set({ pin: this._state.pin.slice(0, -1) });
    else if (action === "offline-continue") this._set({ view: "pin", error: null });
    else if (action === "offline-scan") this._scanQr();
    else if (action === "submit") this._submit({ pin: this._state.pin });
    else if (action === "biometry") this._submit({ factor: FACTOR_BIOMETRY });
  }

  _onInput(event) {
    const target = event.composedPath()[0];
    if (target?.dataset?.toolInput === "qr") {
      this._state.qr = target.value;
      const next = this.shadowRoot.querySelector('[data-tool-action="offline-continue"]');
      if (next) next.disabled = !target.value.trim();
    }
  }

  _onKeyDown(event) {
    if (!event.composedPath().find((node) => node?.dataset?.toolPad)) return;
    if (/^\d$/.test(event.key)) this._typeDigit(event.key);
    else if (event.key === "Backspace") this._set({ pin: this._state.pin.slice(0, -1) });
    else if (event.key === "Enter" && this._state.pin.length >= MIN_PIN_LENGTH) this._submit({ pin: this._state.pin });
    else return;
    event.preventDefault();
  }

  /** Read the offline QR code with the app's camera, then ask for the PIN as after typing it. */
  async _scanQr() {
    const { hass, language } = this._context;
    const text = await scanBankCode(hass, language);
    if (text === null || this._state.tool !== "offline") return;
    this._set({ qr: text, view: text.trim() ? "pin" : "qr", error: null });
  }

  _typeDigit(digit) {
    if (this._state.pin.length < MAX_PIN_LENGTH) this._set({ pin: this._state.pin + digit });
  }

  async _submit({ pin, factor }) {
    const { hass, entryId, language } = this._context;
    const state = this._state;
    if (!hass || !entryId) return;
    const message = toolMessage(state.tool, entryId, { pin, factor, qr: state.qr, acceptBlockRisk: state.acceptBlockRisk });
    const back = state.view;
    this._set({ view: "busy", pin: "", error: null });
    try {
      const result = await hass.connection.sendMessagePromise(message);
      this._set({ view: "result", result, remaining: null, acceptBlockRisk: false });
    } catch (error) {
      const code = error?.translation_key || error?.code;
      const count = Number.parseInt(error?.translation_placeholders?.remaining_attempts, 10);
      const qrError = code === "invalid_qr" || code === "invalid_qr_signature";
      this._set({
        view: qrError ? "qr" : back,
        error: toolErrorText(language, error),
        remaining: Number.isNaN(count) ? null : count,
        acceptBlockRisk: code === "block_risk",
      });
    }
  }

  _render() {
    if (!this.shadowRoot) return;
    const { language, allowBiometry, ready } = this._context;
    const container = this.shadowRoot.querySelector(".tools");
    this.hidden = !ready && !this._state.tool;
    container.innerHTML = renderTools(this._state, language, allowBiometry, hasScanner(this._context.hass));
    const pad = this.shadowRoot.querySelector("[data-tool-pad]");
    if (pad) pad.focus({ preventScroll: true });
  }
}
