// SDK 2.x views of the card: alerts, screen lists, templates, sanitiser, scanner, claim.
import assert from "node:assert/strict";
import { test } from "node:test";

import { STRINGS, approveMessage, errorText, rejectMessage, renderOperation, requiresProximity } from "../../custom_components/mobile_token/frontend/mobile-token-card.js";
import { detailLayout, elementHref, listTexts, renderCell, renderElement, screensOf, statusReasonText } from "../../custom_components/mobile_token/frontend/mt-sdk2.js";
import { sanitizeNode } from "../../custom_components/mobile_token/frontend/mt-sanitize.js";
import { claimOperationId, hasScanner, scanCode } from "../../custom_components/mobile_token/frontend/mt-scanner.js";
import { messageBody, messagesView } from "../../custom_components/mobile_token/frontend/mt-views.js";

const SCREENS = [
  {
    id: "w1",
    type: "WARNING",
    heading: "Watch out",
    message: "Scam?",
    elements: [
      { type: "ALERT", style: "DANGER", text: "Hang up" },
      { type: "LIST_ITEM", text: "Money leaves at once" },
      { type: "BUTTON", action: "PHONE", href: "+420 800 123 456", text: "Call the bank" },
    ],
    controls: { approve: { type: "BUTTON", text: "I understand", counter: 5 } },
  },
  { id: "s1", type: "QR_SCAN", heading: "Scan", message: "Scan the code" },
];

function operation(overrides = {}) {
  return {
    id: "op-1",
    allowedSignatureType: { type: "2FA", variants: ["possession_knowledge"] },
    formData: {
      title: "Payment",
      message: "Confirm",
      attributes: [
        { type: "AMOUNT", id: "operation.amount", label: "Amount", amountFormatted: "100", currencyFormatted: "Kč" },
        { type: "KEY_VALUE", id: "operation.account", label: "Account", value: "123/0100" },
        { type: "HEADING", id: "operation.heading", label: "Money" },
      ],
    },
    ...overrides,
  };
}
const state = (extra = {}) => ({ view: "detail", preDone: false, pin: "", proximity: "", error: null, remaining: null, screenIndex: 0, screenOpenedAt: 0, visits: [], ...extra });

test("every new string exists in English and Czech", () => {
  for (const key of Object.keys(STRINGS.en)) assert.ok(key in STRINGS.cs, key);
  assert.ok("messages_unread" in STRINGS.cs && "error_blocked_on_call" in STRINGS.cs);
});

test("a refusal during a call is explained in the card's language", () => {
  assert.match(errorText("en", { code: "blocked_on_call", message: "x" }), /phone call/);
  assert.match(errorText("cs", { code: "blocked_on_call", message: "x" }), /hovoru/);
});

test("the screen list is shown one screen at a time with its elements and a waiting approve control", () => {
  const op = operation({ ui: { preApprovalScreens: SCREENS } });
  assert.equal(requiresProximity(op), true);
  const first = renderOperation(op, state(), "en", 2000);
  assert.match(first, /Step 1 of 2/);
  assert.match(first, /alert-box error.*Hang up/s);
  assert.match(first, /<li class="element list-item ">Money leaves at once<\/li>/);
  assert.match(first, /href="tel:\+420800123456"/);
  assert.match(first, /Available in 3 s/);
  const ready = renderOperation(op, state(), "en", 6000);
  assert.match(ready, /I understand/);
  const second = renderOperation(op, state({ screenIndex: 1 }), "en", 6000);
  assert.match(second, /Step 2 of 2.*Scan the code/s);
  assert.match(second, /data-input="proximity"/);
  assert.doesNotMatch(second, /proximity-scan/);
  assert.match(renderOperation(op, state({ screenIndex: 1, scanner: true }), "cs", 6000), /proximity-scan.*Skenovat/s);
});

test("the screen's controls: reject label, back button, flipped and stacked buttons", () => {
  const screens = [
    { id: "a", type: "INFO", heading: "A", message: "M" },
    { id: "b", type: "INFO", heading: "B", message: "M", backButton: true, controls: { flip: true, axis: "VERTICAL", decline: { type: "REJECT", text: "Stop it" }, approve: { text: "Go" } } },
    { id: "c", type: "INFO", heading: "C", message: "M", controls: { decline: { type: "BACK", text: "Previous" } } },
  ];
  const op = operation({ ui: { preApprovalScreens: screens } });
  assert.doesNotMatch(renderOperation(op, state(), "en", 0), /pre-back/);
  const second = renderOperation(op, state({ screenIndex: 1 }), "en", 0);
  assert.match(second, /class="buttons vertical"/);
  // Flipped: Go, Stop it, Back (the reverse of Back, Reject, Continue).
  assert.match(second, /data-action="pre-continue"[^>]*>Go<.*>Stop it<.*data-action="pre-back"[^>]*>Back</s);
  const third = renderOperation(op, state({ screenIndex: 2 }), "cs", 0);
  assert.match(third, /data-action="pre-back"[^>]*>Previous<.*>Odmítnout</s);
});

test("the single screen of SDK 1.x still shows with its items", () => {
  const op = operation({ ui: { preApprovalScreen: { type: "INFO", heading: "Note", message: "M", items: ["one"] } } });
  assert.equal(screensOf(op).length, 1);
  assert.match(renderOperation(op, state(), "en", 0), /<li>one<\/li>/);
});

test("buttons open only safe addresses", () => {
  assert.equal(elementHref({ action: "LINK", href: "javascript:alert(1)" }), null);
  assert.equal(elementHref({ action: "LINK", href: "https://bank.example/help" }), "https://bank.example/help");
  assert.equal(elementHref({ action: "MAIL", href: "help@bank.example" }), "mailto:help@bank.example");
  assert.equal(elementHref({ action: "MAIL", href: "x@y\" onclick=" }), null);
  assert.equal(elementHref({ action: "PHONE", href: "call me" }), null);
  assert.doesNotMatch(renderElement({ type: "BUTTON", action: "LINK", href: "data:text/html,x", text: "<b>x</b>" }, "en"), /href|<b>/);
  assert.equal(renderElement({ type: "CAROUSEL" }, "en"), "");
  const rejecting = renderElement({ type: "BUTTON", action: "PHONE", actionSettings: "REJECT", href: "+420800123456", text: "Call" }, "en", "op-9");
  assert.match(rejecting, /href="tel:\+420800123456"[^>]*data-action="reject" data-op="op-9"/);
});

test("templates give the list texts and the detail sections", () => {
  const op = operation({
    templates: {
      list: { title: "Pay ${operation.amount}", message: "to ${operation.account} ${operation.nothing}" },
      detail: { showTitleAndMessage: false, sections: [{ title: "operation.heading", cells: [{ name: "operation.account" }] }] },
    },
  });
  assert.deepEqual(listTexts(op), { header: "", title: "Pay 100 Kč", message: "to 123/0100" });
  const layout = detailLayout(op);
  assert.equal(layout.showTitleAndMessage, false);
  assert.deepEqual(layout.sections.map((s) => [s.title, s.cells.map((c) => c.attribute.id)]), [
    ["Money", ["operation.account"]],
    [null, ["operation.amount"]],
  ]);
  const html = renderOperation(op, state({ preDone: true }), "en", 0);
  assert.match(html, /Pay 100 Kč/);
  assert.doesNotMatch(html, /op-message/);
  assert.deepEqual(listTexts(operation()), { header: "", title: "Payment", message: "Confirm" });
});

test("detail cells hide their title, centre or fold as the template asks", () => {
  assert.equal(renderCell({}, "<x>", "L"), '<div class="cell"><x></div>');
  assert.equal(renderCell({ visibleTitle: false, centered: true }, "<x>", "L"), '<div class="cell no-title centered"><x></div>');
  assert.match(renderCell({ collapsable: "COLLAPSED" }, "<x>", "<L>"), /^<details class="cell-fold"><summary>&lt;L&gt;<\/summary>/);
  assert.match(renderCell({ collapsable: "YES" }, "<x>", "L"), /<details class="cell-fold" open>/);
  const header = renderOperation(operation({ templates: { list: { header: "To ${operation.account}" } } }), state({ preDone: true }), "en", 0);
  assert.match(header, /op-overline">To 123\/0100/);
});

test("the status reason is shown in words", () => {
  assert.equal(statusReasonText({ statusReason: "POSSIBLE_FRAUD" }, "cs"), "Důvod: POSSIBLE_FRAUD");
  assert.equal(statusReasonText({}, "en"), "");
});

test("approve and reject carry the screen record", () => {
  const visits = [{ screen: "w1", timestampOpened: "2026-11-30T10:00:00.000Z", action: "CONTINUE" }];
  assert.deepEqual(approveMessage("e", "o", { pin: "1234", visits }).screen_visits, visits);
  assert.equal("screen_visits" in approveMessage("e", "o", { pin: "1234" }), false);
  assert.deepEqual(rejectMessage("e", "o", "UNKNOWN", "", visits).screen_visits, visits);
});

// A node-like tree as DOMParser would build it.
const el = (name, attrs, ...children) => ({ nodeType: 1, nodeName: name.toUpperCase(), childNodes: children, getAttribute: (key) => attrs[key] ?? null });
const text = (value) => ({ nodeType: 3, textContent: value });

test("the sanitiser keeps text formatting and safe links only", () => {
  const body = el("body", {},
    el("p", { onclick: "steal()" }, text("Hi "), el("b", {}, text("<you>"))),
    el("script", {}, text("steal()")),
    el("img", { src: "https://x/y.png" }),
    el("a", { href: "javascript:steal()" }, text("bad")),
    el("a", { href: "https://bank.example/" }, text("good")),
    el("blink", {}, text("kept text")),
  );
  assert.equal(
    sanitizeNode(body),
    '<p>Hi <b>&lt;you&gt;</b></p>bad<a href="https://bank.example/" target="_blank" rel="noopener noreferrer">good</a>kept text',
  );
});

test("message bodies: text escaped with line breaks, HTML sanitised; the list marks unread ones", () => {
  assert.equal(messageBody({ type: "text", body: "a<b>\nc" }), '<div class="message-body text">a&lt;b&gt;<br>c</div>');
  class FakeParser {
    parseFromString() {
      return { body: el("body", {}, el("i", {}, text("x")), el("script", {}, text("y"))) };
    }
  }
  assert.equal(messageBody({ type: "html", body: "<i>x</i><script>y</script>" }, FakeParser), '<div class="message-body html"><i>x</i></div>');
  const list = messagesView({ messages: [{ id: "m1", subject: "<Hi>", summary: "S", read: false }] }, "en");
  assert.match(list, /message-row unread.*&lt;Hi&gt;/s);
  assert.match(messagesView({ messages: [] }, "cs"), /Žádné zprávy/);
});

test("claim codes: link oid, JWT oid, bare id; nothing else", () => {
  const jwt = `e30.${Buffer.from(JSON.stringify({ oid: "op-42", potp: "1" })).toString("base64url")}.`;
  assert.equal(claimOperationId("https://bank.example/claim?oid=op-7"), "op-7");
  assert.equal(claimOperationId(`mtoken://claim?code=${jwt}`), "op-42");
  assert.equal(claimOperationId(jwt), "op-42");
  assert.equal(claimOperationId(" 930febe7-f350-419a-8bc0-c8883e7f71e3 "), "930febe7-f350-419a-8bc0-c8883e7f71e3");
  assert.equal(claimOperationId("<script>"), null);
  assert.equal(claimOperationId(""), null);
});

test("the scanner asks the app over its bus and passes every message on", async () => {
  assert.equal(hasScanner({ auth: {} }), false);
  const sent = [];
  const seenByFrontend = [];
  const bus = { config: { hasBarCodeScanner: 1 }, fireMessage: (m) => sent.push(m), receiveMessage: (m) => seenByFrontend.push(m.command) };
  const hass = { auth: { external: bus } };
  assert.equal(hasScanner(hass), true);
  const pending = scanCode(hass, { title: "T", description: "D", alternative: "A" });
  assert.deepEqual(sent[0], { type: "bar_code/scan", payload: { title: "T", description: "D", alternative_option_label: "A" } });
  bus.receiveMessage({ type: "command", command: "bar_code/scan_result", payload: { rawValue: "QR-TEXT", format: "qr_code" } });
  assert.equal(await pending, "QR-TEXT");
  assert.deepEqual(sent[1], { type: "bar_code/close" });
  assert.deepEqual(seenByFrontend, ["bar_code/scan_result"]);
  const aborted = scanCode(hass, { title: "T" });
  bus.receiveMessage({ type: "command", command: "bar_code/aborted", payload: { reason: "canceled" } });
  assert.equal(await aborted, null);
  assert.equal(bus.receiveMessage.name, "receiveMessage");
});
