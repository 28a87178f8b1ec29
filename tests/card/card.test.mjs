// Pure helpers of the mobile token card: node --test tests/card
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  STRINGS,
  approvalMode,
  approveMessage,
  errorText,
  escapeHtml,
  formatCountdown,
  formatMoney,
  localize,
  parseWireDate,
  pickLanguage,
  proximityFields,
  rejectMessage,
  remainingAttempts,
  renderAttribute,
  renderOperation,
  renderResult,
  safeImageUrl,
  safeLinkUrl,
} from "../../custom_components/mobile_token/frontend/mobile-token-card.js";

const baseState = { view: "detail", preDone: false, pin: "", proximity: "", reason: "UNKNOWN", customReason: "", error: null, remaining: null };

function operation(overrides = {}) {
  return {
    id: "op-1",
    name: "authorize_payment",
    data: "A1*A100CZK",
    operationExpires: "2030-01-01T00:10:00+0000",
    allowedSignatureType: { type: "2FA", variants: ["possession_knowledge", "possession_biometry"] },
    formData: { title: "Payment", message: "Please confirm", attributes: [] },
    ...overrides,
  };
}

test("both languages define the same strings", () => {
  assert.deepEqual(Object.keys(STRINGS.cs).sort(), Object.keys(STRINGS.en).sort());
});

test("language follows Home Assistant, Czech or English", () => {
  assert.equal(pickLanguage("cs-CZ"), "cs");
  assert.equal(pickLanguage("de"), "en");
  assert.equal(localize("cs", "attempts_left", { count: 3 }), "Zbývající pokusy: 3");
});

test("server texts are escaped and only http(s) links survive", () => {
  assert.equal(escapeHtml(`<img src=x onerror="a">`), "&lt;img src=x onerror=&quot;a&quot;&gt;");
  assert.equal(safeLinkUrl("javascript:alert(1)"), null);
  assert.equal(safeLinkUrl("https://bank.example/x"), "https://bank.example/x");
  assert.equal(safeImageUrl("data:text/html;base64,AAAA"), null);
  assert.equal(safeImageUrl("data:image/png;base64,AAAA"), "data:image/png;base64,AAAA");
  const html = renderAttribute({ type: "KEY_VALUE", id: "k", label: "<b>", value: "<script>" }, "en");
  assert.ok(!html.includes("<script>") && html.includes("&lt;script&gt;"));
});

test("wire dates with +0000 and epoch milliseconds parse", () => {
  assert.equal(parseWireDate("2018-08-08T12:30:42+0000"), Date.UTC(2018, 7, 8, 12, 30, 42));
  assert.equal(parseWireDate(1533731442000), 1533731442000);
  assert.equal(parseWireDate("nonsense"), null);
});

test("countdown formats minutes and hours and ends at zero", () => {
  assert.equal(formatCountdown(65_000), "1:05");
  assert.equal(formatCountdown(3_723_000), "1:02:03");
  assert.equal(formatCountdown(0), null);
});

test("money prefers the server's formatting, then its parts, then our own", () => {
  assert.equal(formatMoney({ valueFormatted: "100,00 Kč", amount: 100, currency: "CZK" }, "cs"), "100,00 Kč");
  assert.equal(formatMoney({ amountFormatted: "100,00", currencyFormatted: "Kč" }, "cs"), "100,00 Kč");
  assert.equal(formatMoney({ amount: 1234.5, currency: "EUR" }, "en"), "€1,234.50");
  assert.equal(formatMoney({ sourceAmount: 25, sourceCurrency: "EUR" }, "en", "source"), "€25.00");
});

test("every attribute type renders its value; unknown types only the label", () => {
  const party = renderAttribute({ type: "PARTY_INFO", id: "p", label: "Shop", partyInfo: { logoUrl: "https://x.example/l.png", name: "e-Shop", description: "Gadgets", websiteUrl: "https://shop.example" } }, "en");
  assert.match(party, /e-Shop/);
  assert.match(party, /href="https:\/\/shop.example\/"/);
  const image = renderAttribute({ type: "IMAGE", id: "i", label: "Invoice", thumbnailUrl: "https://x.example/t.png", originalUrl: "https://x.example/o.png" }, "en");
  assert.match(image, /href="https:\/\/x.example\/o.png"/);
  const conversion = renderAttribute({ type: "AMOUNT_CONVERSION", id: "c", label: "Rate", dynamic: true, sourceValueFormatted: "€25", targetValueFormatted: "631 Kč" }, "en");
  assert.match(conversion, /€25.*631 Kč.*may still change/s);
  const alert = renderAttribute({ type: "ALERT", id: "a", label: "Careful", alertType: "ERROR", title: "Fraud?", message: "Hang up" }, "en");
  assert.match(alert, /alert-box error/);
  assert.match(alert, /Fraud\?.*Hang up/s);
});

test("approval mode follows the allowed factors", () => {
  assert.equal(approvalMode(operation()), "pin");
  assert.equal(approvalMode(operation({ allowedSignatureType: { type: "1FA", variants: [] } })), "possession");
  assert.equal(approvalMode(operation({ allowedSignatureType: { type: "2FA", variants: ["possession_biometry"] }, allowsBiometry: true })), "biometry");
  assert.equal(approvalMode(operation({ allowedSignatureType: { type: "2FA", variants: ["possession_biometry"] }, allowsBiometry: false })), "none");
});

test("proximity input: digits are a TOTP, anything else a QR or deeplink text", () => {
  assert.deepEqual(proximityFields(" 12345678 "), { totp: "12345678" });
  assert.deepEqual(proximityFields("app://operation?oid=1&potp=2"), { pac: "app://operation?oid=1&potp=2" });
  assert.equal(proximityFields(""), null);
});

test("websocket messages carry only what the command takes", () => {
  assert.deepEqual(approveMessage("e", "o", { pin: "1234", proximity: { totp: "1" } }), { type: "mobile_token/approve", entry_id: "e", operation_id: "o", pin: "1234", totp: "1" });
  assert.deepEqual(approveMessage("e", "o", { factor: "possession_biometry" }), { type: "mobile_token/approve", entry_id: "e", operation_id: "o", factor: "possession_biometry" });
  assert.equal(rejectMessage("e", "o", "CUSTOM", " possible_fraud ").reason, "POSSIBLE_FRAUD");
  assert.equal(rejectMessage("e", "o", "INCORRECT_DATA").reason, "INCORRECT_DATA");
});

test("errors are shown in the card's language with the remaining attempts", () => {
  const error = { code: "wrong_pin", message: "Wrong PIN", translation_key: "wrong_pin", translation_placeholders: { remaining_attempts: "2" } };
  assert.equal(errorText("cs", error), "Chybný PIN.");
  assert.equal(remainingAttempts(error), 2);
  assert.equal(errorText("en", { code: "something_new", message: "Server says no" }), "Server says no");
});

test("flipButtons swaps the order and the emphasis of Approve and Reject", () => {
  const normal = renderOperation(operation(), baseState, "en", 0);
  assert.ok(normal.indexOf('data-action="reject"') < normal.indexOf('data-action="approve"'));
  const flipped = renderOperation(operation({ ui: { flipButtons: true } }), baseState, "en", 0);
  assert.ok(flipped.indexOf('data-action="approve"') < flipped.indexOf('data-action="reject"'));
  assert.match(flipped, /class="primary" data-action="reject"/);
});

test("an expired operation cannot be approved", () => {
  const html = renderOperation(operation(), baseState, "en", Date.UTC(2031, 0, 1));
  assert.match(html, /data-action="approve"[^>]*disabled/);
});

test("pre-approval screen comes first; QR_SCAN asks for the proximity code", () => {
  const qr = operation({ ui: { preApprovalScreen: { type: "QR_SCAN", heading: "Scan", message: "Scan it" } } });
  const html = renderOperation(qr, baseState, "en", 0);
  assert.match(html, /data-input="proximity"/);
  assert.doesNotMatch(html, /data-action="approve"/);
  assert.match(renderOperation(qr, { ...baseState, preDone: true }, "en", 0), /data-action="approve"/);
});

test("the PIN pad masks digits and shows the remaining attempts", () => {
  const html = renderOperation(operation({ allowsBiometry: true }), { ...baseState, view: "pin", pin: "12", error: "Wrong PIN.", remaining: 3 }, "en", 0);
  assert.equal((html.match(/dot filled/g) ?? []).length, 2);
  assert.doesNotMatch(html, />12</);
  assert.match(html, /Attempts left: 3/);
  assert.match(html, /Approve without PIN/);
});

test("results show the operation's result texts and the post-approval screen", () => {
  const op = operation({
    formData: { title: "Payment", message: "", attributes: [], resultTexts: { success: "Paid!", reject: "Cancelled." } },
    ui: { postApprovalScreen: { type: "MERCHANT_REDIRECT", heading: "Thanks", message: "Done", payload: { redirectText: "Back", redirectUrl: "https://shop.example/ok", countdown: 5 } } },
  });
  const approved = renderResult({ operation: op, outcome: "approved", redirectUntil: 0 }, "en");
  assert.match(approved, /Paid!/);
  assert.match(approved, /href="https:\/\/shop.example\/ok"[^>]*>Back</);
  const rejected = renderResult({ operation: op, outcome: "rejected" }, "en");
  assert.match(rejected, /Cancelled\./);
  assert.doesNotMatch(rejected, /shop.example/);
});
