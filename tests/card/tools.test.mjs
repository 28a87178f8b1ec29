// The card's history, offline QR and removal tools: node --test tests/card
import assert from "node:assert/strict";
import { test } from "node:test";

import { approveMessage } from "../../custom_components/mobile_token/frontend/mobile-token-card.js";
import {
  MobileTokenTools,
  TOOL_STRINGS,
  renderHistory,
  renderHistoryItem,
  renderOfflineCode,
  renderTools,
  toolErrorText,
  toolMessage,
} from "../../custom_components/mobile_token/frontend/mobile-token-tools.js";

const idle = { tool: null, view: "pin", pin: "", qr: "", error: null, remaining: null, acceptBlockRisk: false, result: null };

test("each tool sends its own websocket command with the PIN or the factor", () => {
  assert.deepEqual(toolMessage("history", "e", { pin: "1234" }), { type: "mobile_token/history", entry_id: "e", pin: "1234" });
  assert.deepEqual(toolMessage("history", "e", { pin: "1234", acceptBlockRisk: true }), { type: "mobile_token/history", entry_id: "e", pin: "1234", accept_block_risk: true });
  assert.deepEqual(toolMessage("remove", "e", { factor: "possession_biometry" }), { type: "mobile_token/remove_activation", entry_id: "e", factor: "possession_biometry" });
  // Offline signing has no block risk at the token: the bank counts the code when it is typed.
  assert.deepEqual(toolMessage("offline", "e", { pin: "1234", qr: "QR", acceptBlockRisk: true }), { type: "mobile_token/sign_offline_qr", entry_id: "e", qr: "QR", pin: "1234" });
});

test("the approval tells when the proximity code was entered", () => {
  assert.deepEqual(approveMessage("e", "o", { pin: "1234", proximity: { pac: "x" }, proximityAt: 1700000000000 }), {
    type: "mobile_token/approve", entry_id: "e", operation_id: "o", pin: "1234", pac: "x", timestamp_received: 1700000000000,
  });
  assert.equal("timestamp_received" in approveMessage("e", "o", { pin: "1234", proximityAt: 5 }), false);
});

test("history rows show the status reason when the bank gives one, escaped", () => {
  const html = renderHistoryItem({ id: "1", status: "REJECTED", statusReason: "<b>FRAUD</b>", formData: { title: "Pay" } }, "en");
  assert.match(html, /class="history-status">Rejected</);
  assert.match(html, /Reason: &lt;b&gt;FRAUD&lt;\/b&gt;/);
  assert.match(renderHistory([{ id: "1", status: "REJECTED", statusReason: "POSSIBLE_FRAUD" }], "cs"), /Důvod: POSSIBLE_FRAUD/);
  assert.doesNotMatch(renderHistoryItem({ id: "1", status: "APPROVED", formData: { title: "Pay" } }, "en"), /status-reason/);
  assert.match(renderHistory([], "en"), /No operations/);
});

test("history rows give statuses and the card's reject reasons in words, unknown codes as sent", () => {
  const html = renderHistory([{ id: "1", status: "REJECTED", statusReason: "INCORRECT_DATA", formData: { title: "Pay" } }], "cs");
  assert.match(html, /class="history-status">Zamítnuto</);
  assert.match(html, /class="status-reason">Důvod: Údaje nesouhlasí</);
  assert.doesNotMatch(html, /REJECTED|INCORRECT_DATA/);
  assert.match(renderHistoryItem({ id: "2", status: "APPROVED", formData: { title: "Pay" } }, "en"), /class="history-status">Approved</);
  assert.match(renderHistoryItem({ id: "3", status: "ON_HOLD", statusReason: "toString", formData: { title: "Pay" } }, "en"), /ON_HOLD[\s\S]*Reason: toString/);
});

test("the offline code is shown large with the bank's warning", () => {
  const html = renderOfflineCode({ code: "12345678-87654321", operation: { title: "Pay" } }, "cs");
  assert.match(html, /class="offline-code"[^>]*>12345678-87654321</);
  assert.ok(html.includes(TOOL_STRINGS.cs.offline_warning));
});

test("tools render their PIN pad, the removal warning and the QR form", () => {
  assert.match(renderTools(idle, "en", false), /Remove this token at the bank/);
  const remove = renderTools({ ...idle, tool: "remove" }, "en", true);
  assert.match(remove, /cannot undo/);
  assert.match(remove, /data-tool-pad="remove"/);
  assert.match(remove, /Without PIN/);
  assert.doesNotMatch(renderTools({ ...idle, tool: "history" }, "en", false), /Without PIN/);
  assert.match(renderTools({ ...idle, tool: "offline", view: "qr" }, "en", false), /textarea/);
  assert.match(renderTools({ ...idle, tool: "history", remaining: 2, error: "Wrong PIN." }, "en", false), /Attempts left: 2/);
});

test("errors use the tools' translation, else the server's message", () => {
  assert.equal(toolErrorText("en", { code: "invalid_qr_signature" }), TOOL_STRINGS.en.error_invalid_qr_signature);
  assert.equal(toolErrorText("en", { code: "other", message: "Server says" }), "Server says");
});

/** The companion app's bus as the frontend has it: it scans, answering on receiveMessage. */
function fakeApp(rawValue) {
  const sent = [];
  const bus = {
    config: { hasBarCodeScanner: 1 },
    fireMessage(message) {
      sent.push(message);
      if (message.type === "bar_code/scan") {
        const answer = rawValue === null
          ? { type: "command", command: "bar_code/aborted", payload: { reason: "canceled" } }
          : { type: "command", command: "bar_code/scan_result", payload: { rawValue, format: "qr_code" } };
        queueMicrotask(() => bus.receiveMessage(answer));
      }
    },
    receiveMessage() {},
  };
  return { sent, hass: { auth: { external: bus } } };
}

function offlineTools(hass) {
  const tools = new MobileTokenTools();
  tools.setContext({ hass, entryId: "e", language: "cs", ready: true });
  tools._state = { ...idle, tool: "offline", view: "qr" };
  return tools;
}

test("the offline QR form offers the app's scanner only where there is one", () => {
  const form = { ...idle, tool: "offline", view: "qr" };
  assert.doesNotMatch(renderTools(form, "en", false), /offline-scan/);
  assert.match(renderTools(form, "en", false, true), /data-tool-action="offline-scan"[^>]*>Scan</);
  assert.match(renderTools(form, "cs", false, true), /offline-scan[^>]*>Skenovat</);
});

test("a scanned offline QR code goes to the PIN pad; a cancelled scan keeps the form", async () => {
  const scanned = fakeApp("APP:QR\nPayment");
  const tools = offlineTools(scanned.hass);
  await tools._scanQr();
  assert.equal(scanned.sent[0].type, "bar_code/scan");
  assert.equal(scanned.sent[0].payload.title, "Naskenujte QR kód banky");
  assert.deepEqual(scanned.sent[1], { type: "bar_code/close" });
  assert.equal(tools._state.qr, "APP:QR\nPayment");
  assert.equal(tools._state.view, "pin");
  assert.equal(toolMessage("offline", "e", { pin: "1234", qr: tools._state.qr }).qr, "APP:QR\nPayment");

  const cancelled = offlineTools(fakeApp(null).hass);
  cancelled._state.qr = "typed";
  await cancelled._scanQr();
  assert.equal(cancelled._state.qr, "typed");
  assert.equal(cancelled._state.view, "qr");
});
