/**
 * An allow-list sanitiser for the bank's HTML messages.
 *
 * The server's markup is never inserted as such: the browser parses it into an
 * inert document (DOMParser, no scripts run, nothing loads), and this module
 * writes new markup from that tree, keeping only harmless text elements and,
 * on links, an http(s) or mailto address. Everything else (scripts, styles,
 * images, forms, event attributes, unknown tags) is dropped; the text inside
 * a dropped formatting tag is kept, the content of script-like tags is not.
 */

import { escapeHtml as escapeText } from "./mobile-token-card.js";

export const ALLOWED_TAGS = new Set([
  "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
  "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "u", "ul",
]);
const VOID_TAGS = new Set(["br", "hr"]);
// Their text is code or styling, never message text.
const DROPPED_WITH_CONTENT = new Set(["script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "head", "title"]);
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;


/** A link target the card may open: http(s) or mailto only. */
export function safeMessageLink(value) {
  try {
    const url = new URL(String(value ?? ""));
    return ["https:", "http:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** New markup for a node-like tree (nodeType, nodeName, childNodes, getAttribute, textContent). */
export function sanitizeNode(node) {
  if (node.nodeType === TEXT_NODE) return escapeText(node.textContent ?? "");
  if (node.nodeType !== ELEMENT_NODE && node.nodeType !== 9 && node.nodeType !== 11) return "";
  const tag = String(node.nodeName ?? "").toLowerCase();
  if (DROPPED_WITH_CONTENT.has(tag)) return "";
  const inner = Array.from(node.childNodes ?? [], sanitizeNode).join("");
  if (!ALLOWED_TAGS.has(tag)) return inner;
  if (VOID_TAGS.has(tag)) return `<${tag}>`;
  if (tag === "a") {
    const href = safeMessageLink(node.getAttribute?.("href"));
    return href
      ? `<a href="${escapeText(href)}" target="_blank" rel="noopener noreferrer">${inner}</a>`
      : inner;
  }
  return `<${tag}>${inner}</${tag}>`;
}

/** Sanitised markup of an HTML string, parsed inertly by the browser's DOMParser. */
export function sanitizeHtml(html, Parser = globalThis.DOMParser) {
  if (!Parser) return escapeText(html);
  const doc = new Parser().parseFromString(String(html ?? ""), "text/html");
  return sanitizeNode(doc.body);
}
