/**
 * The card's Messages and Claim views: pure renderers (state in, escaped HTML out).
 *
 * Messages: the bank's inbox, newest first; a message opens with its body,
 * plain text escaped, HTML rebuilt by the allow-list sanitiser. Claim: the
 * text of a QR code or link that carries an operation id, typed, pasted or
 * scanned with the companion app's camera; the operation then joins the list.
 */
import { escapeHtml as esc, localize } from "./mobile-token-card.js";
import { sanitizeHtml } from "./mt-sanitize.js";

export const WS_REFRESH = "mobile_token/refresh";
export const WS_CLAIM = "mobile_token/claim";
export const WS_MESSAGES = "mobile_token/messages";
export const WS_MESSAGE_READ = "mobile_token/message_read";

function action(name, label, { primary = false, id = "", disabled = false } = {}) {
  return `<button type="button" class="${primary ? "primary" : "secondary"}" data-action="${name}" data-op="${esc(id)}"${disabled ? " disabled" : ""}>${esc(label)}</button>`;
}

function when(created, language) {
  const date = created ? new Date(created) : null;
  return date && !Number.isNaN(date.getTime()) ? date.toLocaleString(language === "cs" ? "cs-CZ" : "en-GB") : "";
}

/** The body of one message: sanitised HTML, or escaped text with its line breaks. */
export function messageBody(message, Parser) {
  if (message?.type === "html") return `<div class="message-body html">${sanitizeHtml(message.body ?? "", Parser)}</div>`;
  return `<div class="message-body text">${esc(message?.body ?? "").replaceAll("\n", "<br>")}</div>`;
}

/** The messages list, or the open message. */
export function messagesView(view, language, Parser) {
  const back = action("list-back", localize(language, "list_back"));
  if (view.error) return `<div class="error" role="alert">${esc(view.error)}</div><div class="buttons single">${back}</div>`;
  if (view.open) {
    const message = view.open;
    return `<div class="message-detail">
      <div class="op-title">${esc(message.subject)}</div>
      <div class="hint">${esc(when(message.created, language))}</div>
      ${messageBody(message, Parser)}
      <div class="buttons single">${action("messages-open", localize(language, "message_back"))}</div>
    </div>`;
  }
  const rows = (view.messages ?? [])
    .map(
      (message) => `<button type="button" class="message-row${message.read ? "" : " unread"}" data-action="message-open" data-op="${esc(message.id)}">
        <span class="message-subject">${esc(message.subject)}</span>
        <span class="message-summary">${esc(message.summary)}</span>
        <span class="hint">${esc(when(message.created, language))}</span>
      </button>`,
    )
    .join("");
  const unread = (view.messages ?? []).some((message) => !message.read);
  return `<div class="messages">
    <div class="pin-title">${esc(localize(language, "messages"))}</div>
    ${rows || `<div class="state empty">${esc(localize(language, "no_messages"))}</div>`}
    <div class="buttons">${back}${action("messages-read-all", localize(language, "mark_all_read"), { disabled: !unread })}</div>
  </div>`;
}

/** The claim form, with a Scan button when the companion app's camera is there. */
export function claimView(view, language, scanner) {
  const scan = scanner ? action("claim-scan", localize(language, "scan")) : "";
  return `<div class="claim">
    <div class="pin-title">${esc(localize(language, "claim_title"))}</div>
    <label class="field"><span>${esc(localize(language, "claim_label"))}</span>
      <input type="text" data-input="claim" value="${esc(view.text ?? "")}" autocomplete="off" spellcheck="false">
      <small>${esc(localize(language, "claim_hint"))}</small></label>
    ${view.error ? `<div class="error" role="alert">${esc(view.error)}</div>` : ""}
    ${view.done ? `<div class="hint" role="status">${esc(localize(language, "claim_done"))}</div>` : ""}
    <div class="buttons">${action("list-back", localize(language, "list_back"))}${scan}${action("claim-submit", localize(language, "claim"), { primary: true })}</div>
  </div>`;
}
