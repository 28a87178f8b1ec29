/**
 * Rendering of the Mobile Token SDK 2.x/3.x operation model: ALERT attributes,
 * the list of pre-approval screens with their elements and controls, the
 * bank's templates for the list and the detail, and the status reason.
 *
 * Pure functions (data in, escaped HTML out) for the main card and its tests.
 * Nothing the server sends becomes markup or a link without escaping and a
 * scheme check: buttons open only https/http pages, mailto: and tel: numbers.
 */
import { REJECT_REASONS, escapeHtml as esc, localize, safeLinkUrl } from "./mobile-token-card.js";

const ALERT_TYPES = new Set(["SUCCESS", "INFO", "WARNING", "ERROR"]);
const STYLE_CLASS = { INFO: "info", WARNING: "warning", DANGER: "error" };
const PHONE = /^\+?[0-9 ()-]{3,32}$/;
const EMAIL = /^[^\s@<>"']{1,64}@[^\s@<>"']{1,255}$/;

/** An ALERT attribute (SDK 2.3+): a box in its severity with the title and the message. */
export function renderAlertAttribute(attribute, language) {
  const severity = ALERT_TYPES.has(attribute.alertType) ? attribute.alertType : "INFO";
  const title = attribute.title || attribute.label || localize(language, `alert_${severity}`);
  return `<div class="alert-box ${severity.toLowerCase()}" role="${severity === "ERROR" || severity === "WARNING" ? "alert" : "note"}">
    <div class="alert-title">${esc(title)}</div>
    ${attribute.message ? `<div class="alert-message">${esc(attribute.message)}</div>` : ""}
  </div>`;
}

/** The pre-approval screens to show in order: the list (SDK 2.4+), else the single screen. */
export function screensOf(operation) {
  const ui = operation?.ui ?? {};
  if (Array.isArray(ui.preApprovalScreens)) return ui.preApprovalScreens.filter((s) => s && typeof s === "object");
  return ui.preApprovalScreen ? [ui.preApprovalScreen] : [];
}

/** A BUTTON element's target, or null when its address is not a safe one of its kind. */
export function elementHref(element) {
  const href = String(element?.href ?? "").trim();
  if (element?.action === "PHONE") return PHONE.test(href) ? `tel:${href.replace(/[ ()-]/g, "")}` : null;
  if (element?.action === "MAIL") {
    const address = href.replace(/^mailto:/i, "");
    return EMAIL.test(address) ? `mailto:${encodeURIComponent(address).replace("%40", "@")}` : null;
  }
  return safeLinkUrl(href);
}

/**
 * One element of a pre-approval screen; unknown or malformed ones show their text only.
 * A button whose `actionSettings` is REJECT also opens the rejection of the operation
 * (calling the bank about a fraud should not leave the operation waiting).
 */
export function renderElement(element, language, operationId = "") {
  const text = typeof element?.text === "string" ? element.text : "";
  const style = STYLE_CLASS[element?.style] ?? "";
  switch (element?.type) {
    case "ALERT":
      return `<div class="element alert-box ${style || "info"}" role="note">${esc(text)}</div>`;
    case "LIST_ITEM":
      return `<li class="element list-item ${style}">${esc(text)}</li>`;
    case "BUTTON": {
      const href = elementHref(element);
      const label = text || localize(language, element.action === "PHONE" ? "call_bank" : element.action === "MAIL" ? "write_bank" : "open_link");
      const rejects = element.actionSettings === "REJECT" ? ` data-action="reject" data-op="${esc(operationId)}"` : "";
      return href
        ? `<a class="element link-button" href="${esc(href)}" target="_blank" rel="noopener noreferrer"${rejects}>${esc(label)}</a>`
        : `<div class="element">${esc(label)}</div>`;
    }
    default:
      return text ? `<div class="element">${esc(text)}</div>` : "";
  }
}

/** The elements of a screen, list items grouped in a list. */
export function renderElements(screen, language, operationId = "") {
  const parts = [];
  let items = [];
  const flush = () => {
    if (items.length) parts.push(`<ul class="items">${items.join("")}</ul>`);
    items = [];
  };
  for (const element of screen.elements ?? []) {
    const html = renderElement(element, language, operationId);
    if (element?.type === "LIST_ITEM") items.push(html);
    else {
      flush();
      parts.push(html);
    }
  }
  flush();
  // The single screen of SDK 1.x lists plain texts as items.
  const legacy = (screen.items ?? []).map((item) => `<li>${esc(item)}</li>`).join("");
  return parts.join("") + (legacy ? `<ul class="items">${legacy}</ul>` : "");
}

/** How the screen is approved: "slider" or "button", with its label and waiting seconds. */
export function approveControl(screen) {
  const approve = screen.controls?.approve ?? {};
  const slider = approve.type === "SLIDER" || screen.approvalType === "SLIDER";
  const counter = Number.isInteger(approve.counter) && approve.counter > 0 ? approve.counter : 0;
  return { kind: slider ? "slider" : "button", text: approve.text ?? null, counter };
}

/**
 * The screen's decline and layout controls: the Reject label (`decline` REJECT
 * with a text), a Back button to the previous screen (`backButton`, or
 * `decline` BACK, from the second screen on), `flip` (swapped order) and
 * `axis` VERTICAL (stacked buttons). Rejecting stays one tap on every screen.
 */
export function screenControls(screen, index, language) {
  const decline = screen.controls?.decline ?? {};
  const back = index > 0 && (screen.backButton === true || decline.type === "BACK");
  return {
    rejectLabel: decline.type === "REJECT" && decline.text ? decline.text : localize(language, "reject"),
    back,
    backLabel: decline.type === "BACK" && decline.text ? decline.text : localize(language, "back"),
    flip: screen.controls?.flip === true,
    vertical: screen.controls?.axis === "VERTICAL",
  };
}

/** Attribute texts by id for the templates' `${id}` placeholders. */
export function attributeTexts(operation) {
  const texts = {};
  for (const attribute of operation?.formData?.attributes ?? []) {
    const value =
      attribute.valueFormatted ??
      (attribute.amountFormatted ? `${attribute.amountFormatted} ${attribute.currencyFormatted ?? attribute.currency ?? ""}`.trim() : null) ??
      (attribute.amount !== undefined ? `${attribute.amount} ${attribute.currency ?? ""}`.trim() : null) ??
      attribute.value ??
      attribute.note ??
      attribute.message ??
      attribute.label;
    if (attribute.id) texts[attribute.id] = String(value ?? "");
  }
  return texts;
}

/** Replace `${attributeId}` placeholders; unknown ones become empty (as the SDK's parser does). */
export function fillTemplate(text, values) {
  return String(text ?? "").replace(/\$\{([^}]*)\}/g, (match, id) => values[id] ?? "");
}

/** The list row's header, title and message from the list template, else from the form. */
export function listTexts(operation) {
  const template = operation?.templates?.list ?? {};
  const form = operation?.formData ?? {};
  const values = attributeTexts(operation);
  const pick = (key, fallback) => (typeof template[key] === "string" ? fillTemplate(template[key], values).trim() || fallback : fallback);
  return {
    header: typeof template.header === "string" ? fillTemplate(template.header, values).trim() : "",
    title: pick("title", form.title ?? ""),
    message: pick("message", form.message ?? ""),
  };
}

/**
 * The attributes in the order the detail template gives: its sections with
 * their title attribute and cells, then every attribute no section names.
 * Returns sections of attributes; `showTitleAndMessage: false` hides the form header.
 */
export function detailLayout(operation) {
  const attributes = operation?.formData?.attributes ?? [];
  const byId = new Map(attributes.filter((a) => a?.id).map((a) => [a.id, a]));
  const detail = operation?.templates?.detail;
  const sections = [];
  const used = new Set();
  for (const section of Array.isArray(detail?.sections) ? detail.sections : []) {
    const title = byId.get(section?.title);
    const cells = (Array.isArray(section?.cells) ? section.cells : [])
      .map((cell) => ({ cell, attribute: byId.get(cell?.name) }))
      .filter(({ attribute }) => attribute);
    if (title) used.add(title.id);
    cells.forEach(({ attribute }) => used.add(attribute.id));
    if (cells.length || title) sections.push({ title: title?.label ?? null, style: section.style ?? null, cells });
  }
  const rest = attributes.filter((a) => !used.has(a?.id));
  if (rest.length) sections.push({ title: null, style: null, cells: rest.map((attribute) => ({ cell: {}, attribute })) });
  return { showTitleAndMessage: detail?.showTitleAndMessage !== false, sections };
}

/**
 * One attribute as a detail template's cell asks: without its title
 * (`visibleTitle: false`), centred, or folded away (`collapsable`: COLLAPSED
 * starts closed, YES starts open).
 */
export function renderCell(cell, attributeHtml, label) {
  const classes = ["cell"];
  if (cell?.visibleTitle === false) classes.push("no-title");
  if (cell?.centered) classes.push("centered");
  const body = `<div class="${classes.join(" ")}">${attributeHtml}</div>`;
  if (cell?.collapsable !== "COLLAPSED" && cell?.collapsable !== "YES") return body;
  const open = cell.collapsable === "YES" ? " open" : "";
  return `<details class="cell-fold"${open}><summary>${esc(label)}</summary>${body}</details>`;
}

/**
 * "Reason: …" for a finished operation that carries a statusReason, else "". A reason the card
 * offers when rejecting is given in the card's words; others as the bank sent them.
 */
export function statusReasonText(operation, language) {
  const reason = operation?.statusReason;
  if (typeof reason !== "string" || !reason) return "";
  const words = REJECT_REASONS.includes(reason) ? localize(language, `reason_${reason}`) : reason;
  return localize(language, "status_reason", { reason: words });
}
