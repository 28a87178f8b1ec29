// The card's history, offline QR and removal tools: node --test tests/card
import assert from "node:assert/strict";
import { test } from "node:test";

import { approveMessage } from "../../custom_components/mobile_token/frontend/mobile-token-card.js";
import {
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
  const html = renderHistoryItem({ id: "1", status: "REJECTED", statusReason: "<b>FRAUD</b>", formData: { title: "Pay" } });
  assert.match(html, /REJECTED/);
  assert.match(html, /&#60;b&#62;FRAUD&#60;\/b&#62;/);
  assert.doesNotMatch(renderHistoryItem({ id: "1", status: "APPROVED", formData: { title: "Pay" } }), /status-reason/);
  assert.match(renderHistory([], "en"), /No operations/);
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
