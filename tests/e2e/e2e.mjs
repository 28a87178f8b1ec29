/**
 * End to end in a real browser: the emulator with demo data, a real Home Assistant
 * with the integration, onboarding, the config flow through the UI, a dashboard
 * with the card, a 2FA payment approved with the PIN (after one wrong PIN) and
 * another operation rejected, both checked on the server's admin API; the history and an
 * offline QR code signed with the PIN (the code checked at the bank); a newer
 * server's operation with alerts and two pre-approval screens, and the Messages view; then the
 * dashboard opened in several fresh browsers, where the card must be found each time.
 * Runs against Home Assistant 2025.4 and 2026.10 (whichever the virtual environment has).
 *
 * Run it with scripts/e2e. Screenshots: artifacts/e2e-*.png.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ARTIFACTS, PHONE_VIEWPORT, PROJECT_ROOT, assert, launchBrowser, screenshot } from "./browser.mjs";

const PIN = "2580";
const WRONG_PIN = "1111";
const ADMIN = { name: "E2E Admin", username: "admin", password: "e2e-admin-password" };
const HA_START_TIMEOUT_MS = 15 * 60 * 1000;
const EMULATOR_START_TIMEOUT_MS = 60 * 1000;
const UI_TIMEOUT_MS = 60 * 1000;
const DASHBOARD_PATH = "mobile-token";
// Fresh browsers that open the dashboard: the card's module races the frontend's boot.
const COLD_LOADS = 6;
const APP_BUNDLE_DELAY_MS = 1500;
// The virtual environment scripts/e2e chose (one per Python version).
const VENV = process.env.MOBILE_TOKEN_VENV || join(PROJECT_ROOT, ".venv");

const children = [];
const workDir = mkdtempSync(join(tmpdir(), "mobile-token-e2e-"));

function log(message) {
  console.log(`[e2e] ${message}`);
}

function stopChildren() {
  for (const child of children) {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
}

process.on("exit", stopChildren);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopChildren();
    process.exit(130);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function start(name, command, args, options = {}) {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], ...options });
  children.push(child);
  child.on("exit", (code, signal) => log(`${name} exited (${code ?? signal})`));
  return child;
}

/** The emulator's JSON lines: {url, appConfig, …} then {activationCode, userId}. */
async function startEmulator() {
  const port = await freePort();
  const child = start("emulator", join(PROJECT_ROOT, "scripts", "server"), ["--demo", "--port", String(port), "--data", join(workDir, "emulator")]);
  child.stderr.on("data", (chunk) => process.stderr.write(`[emulator] ${chunk}`));
  const info = {};
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    lines.on("line", (line) => {
      try {
        Object.assign(info, JSON.parse(line));
      } catch {
        log(`emulator: ${line}`);
        return;
      }
      if (info.url && info.appConfig && info.activationCode) resolve(info);
    });
    child.on("exit", () => reject(new Error("the emulator stopped before it was ready")));
  });
  const timeout = sleep(EMULATOR_START_TIMEOUT_MS).then(() => {
    throw new Error("the emulator did not start in time");
  });
  await Promise.race([ready, timeout]);
  log(`emulator at ${info.url}, activation code for ${info.userId}`);
  return info;
}

function writeHomeAssistantConfig(configDir, port) {
  mkdirSync(join(configDir, "custom_components"), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, "custom_components", "mobile_token"), join(configDir, "custom_components", "mobile_token"));
  writeFileSync(
    join(configDir, "configuration.yaml"),
    `# A lean Home Assistant for the browser test.
homeassistant:
  name: Mobile token e2e
  time_zone: UTC
  country: CZ
  currency: CZK
  unit_system: metric
http:
  server_host: 127.0.0.1
  server_port: ${port}
frontend:
config:
lovelace:
  dashboards:
    ${DASHBOARD_PATH}:
      mode: yaml
      filename: mobile-token-dashboard.yaml
      title: Mobile token
      icon: mdi:shield-key
      show_in_sidebar: true
logger:
  default: warning
  logs:
    custom_components.mobile_token: debug
`,
  );
  writeFileSync(
    join(configDir, "mobile-token-dashboard.yaml"),
    `title: Mobile token
views:
  - title: Approvals
    path: approvals
    cards:
      - type: custom:mobile-token-card
`,
  );
}

async function waitForHttp(url, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("Home Assistant stopped during start-up");
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(2000);
  }
  throw new Error(`${url} did not answer in time`);
}

async function startHomeAssistant() {
  const port = await freePort();
  const configDir = join(workDir, "ha");
  writeHomeAssistantConfig(configDir, port);
  const logFile = join(configDir, "home-assistant.log");
  const child = start("Home Assistant", join(VENV, "bin", "hass"), ["-c", configDir, "--log-file", logFile]);
  child.stdout.resume();
  child.stderr.resume();
  const base = `http://127.0.0.1:${port}`;
  log(`starting Home Assistant at ${base} (the first start can take minutes)`);
  await waitForHttp(`${base}/api/onboarding`, HA_START_TIMEOUT_MS, child);
  log("Home Assistant answers");
  return { base, logFile };
}

async function postJson(url, body, token) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Onboarding as the first screen does it: the owner, then the remaining steps. */
async function onboard(base) {
  const clientId = `${base}/`;
  const { auth_code: code } = await postJson(`${base}/api/onboarding/users`, { client_id: clientId, language: "en", ...ADMIN });
  const response = await fetch(`${base}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", code, client_id: clientId }),
  });
  assert(response.ok, `token exchange: ${response.status}`);
  const tokens = await response.json();
  await postJson(`${base}/api/onboarding/core_config`, {}, tokens.access_token);
  await postJson(`${base}/api/onboarding/analytics`, {}, tokens.access_token);
  await postJson(`${base}/api/onboarding/integration`, { client_id: clientId, redirect_uri: `${base}/?auth_callback=1` }, tokens.access_token);
  log("onboarded the owner");
  return { ...tokens, clientId };
}

/** The action descriptions answer once Home Assistant has installed what its first start needs. */
async function waitForServices(base, token) {
  const deadline = Date.now() + HA_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const response = await fetch(`${base}/api/services`, { headers: { authorization: `Bearer ${token}` } });
    if (response.ok) return;
    await sleep(2000);
  }
  throw new Error("Home Assistant's action descriptions did not load in time");
}

/** Websocket commands as the owner, sent from a blank page of the browser; their results in order. */
async function websocketCommands(context, base, token, commands) {
  const page = await context.newPage();
  try {
    return await page.evaluate(
      ([url, accessToken, messages]) =>
        new Promise((resolve, reject) => {
          const socket = new WebSocket(url);
          const results = [];
          let id = 0;
          const next = () => {
            if (id === messages.length) {
              socket.close();
              resolve(results);
              return;
            }
            id += 1;
            socket.send(JSON.stringify({ id, ...messages[id - 1] }));
          };
          socket.onerror = () => reject(new Error("websocket error"));
          socket.onmessage = (event) => {
            const message = JSON.parse(event.data);
            if (message.type === "auth_required") socket.send(JSON.stringify({ type: "auth", access_token: accessToken }));
            else if (message.type === "auth_invalid") reject(new Error("websocket authentication refused"));
            else if (message.type === "auth_ok") next();
            else if (message.type === "result" && message.id === id) {
              results.push(message);
              next();
            }
          };
        }),
      [`${base.replace(/^http/, "ws")}/api/websocket`, token, commands],
    );
  } finally {
    await page.close();
  }
}

/**
 * Home Assistant 2026.10 moves the `http:` section into a trial that reverts (and stops Home
 * Assistant) unless the owner confirms it; 2025.4 has no such trial and no such command.
 */
async function confirmPendingHttpConfig(context, base, token) {
  const [config] = await websocketCommands(context, base, token, [{ type: "http/config" }]);
  if (!config.success || !config.result.pending) return;
  const [promoted] = await websocketCommands(context, base, token, [{ type: "http/config/promote" }]);
  assert(promoted.success, `confirming the HTTP configuration: ${JSON.stringify(promoted.error)}`);
  log("confirmed the pending HTTP configuration");
}

/** Signed in as the owner: the frontend reads its tokens from localStorage. */
async function signIn(context, base, tokens) {
  const stored = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_in: tokens.expires_in,
    token_type: tokens.token_type,
    expires: Date.now() + tokens.expires_in * 1000,
    hassUrl: base,
    clientId: tokens.clientId,
  };
  await context.addInitScript(
    ([hassTokens]) => {
      if (!localStorage.getItem("hassTokens")) localStorage.setItem("hassTokens", hassTokens);
    },
    [JSON.stringify(stored)],
  );
}

async function configEntries(base, token) {
  const response = await fetch(`${base}/api/config/config_entries/entry?domain=mobile_token`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert(response.ok, `config entries: ${response.status}`);
  return response.json();
}

/**
 * A form field by its label, as either frontend exposes it: 2025.4 labels the input, 2026.10
 * gives the label (with "*" on required fields) only as the input's accessible name.
 */
async function fillField(dialog, label, value) {
  const name = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\*?$`);
  const field = dialog.getByLabel(name).or(dialog.getByRole("textbox", { name })).first();
  await field.fill(value);
}

/** Add the integration the way a user does: the config flow dialog of the integrations page. */
async function addIntegrationThroughUi(page, base, emulator, tokens) {
  await page.goto(`${base}/config/integrations/dashboard/add?domain=mobile_token`);
  // The integrations page first asks whether to set the integration up.
  await page.getByRole("button", { name: "OK" }).click({ timeout: UI_TIMEOUT_MS });
  const dialog = page.locator("dialog-data-entry-flow");
  await dialog.getByText("Connect to the bank's server").waitFor({ timeout: UI_TIMEOUT_MS });
  await fillField(dialog, "Server URL", emulator.url);
  await fillField(dialog, "Configuration string", emulator.appConfig);
  await screenshot(page, "e2e-config-flow-server");
  await dialog.getByRole("button", { name: /^(Submit|Next)$/ }).click();
  await dialog.getByText("Activate the mobile token").waitFor({ timeout: UI_TIMEOUT_MS });
  await fillField(dialog, "Activation code", emulator.activationCode);
  await fillField(dialog, "PIN", PIN);
  await fillField(dialog, "PIN again", PIN);
  await screenshot(page, "e2e-config-flow-activate");
  await dialog.getByRole("button", { name: /^(Submit|Next)$/ }).click();
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let entries = [];
  while (Date.now() < deadline && !entries.some((entry) => entry.state === "loaded")) {
    await sleep(1000);
    entries = await configEntries(base, tokens.access_token);
  }
  await screenshot(page, "e2e-config-flow-done");
  assert(entries.some((entry) => entry.state === "loaded"), `a loaded entry after the flow: ${JSON.stringify(entries)}`);
  log(`integration added through the UI: ${entries[0].title}`);
}

async function serverOperation(emulator, operationId) {
  const response = await fetch(`${emulator.url.replace(/\/$/, "")}/admin/operations/${encodeURIComponent(operationId)}`);
  assert(response.ok, `admin operation ${operationId}: ${response.status}`);
  return response.json();
}

const card = (page) => page.locator("mobile-token-card");

/**
 * A screenshot of part of the card, scrolled to the middle of the window first: scrolled only
 * into view, it can sit under the dashboard's fixed header.
 */
async function screenshotPart(part, name) {
  await part.evaluate((element) => element.scrollIntoView({ block: "center" }));
  return screenshot(part, name);
}

async function openDashboard(page, base) {
  await page.goto(`${base}/${DASHBOARD_PATH}/approvals`);
  await waitForCardOperations(page);
}

async function waitForCardOperations(page) {
  await card(page).locator(".list").waitFor({ timeout: UI_TIMEOUT_MS });
  await card(page).locator('[data-key^="op:"]').first().waitFor({ timeout: UI_TIMEOUT_MS });
}

/**
 * The dashboard opened `count` times, each in a new browser with an empty profile (nothing
 * cached): the card must be defined every time, whenever its module runs during the boot.
 * Every other load holds the frontend's app bundle back a little, so that the card's module
 * surely runs before the frontend swaps in its scoped element registry (which that bundle does).
 */
async function coldLoads(base, tokens, count) {
  const failures = [];
  for (let attempt = 1; attempt <= count; attempt += 1) {
    const browser = await launchBrowser();
    try {
      await signIn(browser.context, base, tokens);
      const page = await browser.context.newPage();
      let delayed = 0;
      if (attempt % 2 === 0) {
        await page.route(/\/frontend_latest\/app\.[0-9a-f]+\.js$/, async (route) => {
          delayed += 1;
          await sleep(APP_BUNDLE_DELAY_MS);
          await route.continue();
        });
      }
      await page.goto(`${base}/${DASHBOARD_PATH}/approvals`);
      try {
        await card(page).locator(".list").waitFor({ timeout: UI_TIMEOUT_MS });
      } catch {
        failures.push(attempt);
        await screenshot(page, `e2e-cold-load-${attempt}`);
      }
      assert(attempt % 2 === 1 || delayed > 0, "the frontend's app bundle was not found to hold back");
    } finally {
      await browser.close();
    }
  }
  assert(failures.length === 0, `the card was missing on cold loads ${failures.join(", ")} of ${count}`);
  log(`the card was there on all ${count} cold loads`);
}

/** A party's logo shows once loaded or not at all: the demo's logo lives on a host the test cannot reach. */
async function brokenLogosHidden(page) {
  const logos = card(page).locator(".party-logo");
  assert((await logos.count()) > 0, "the demo's payment shows a party with a logo");
  await page.waitForFunction(
    (root) => [...root.shadowRoot.querySelectorAll(".party-logo")].every((img) => img.complete),
    await card(page).elementHandle(),
    { timeout: UI_TIMEOUT_MS },
  );
  const broken = await logos.evaluateAll((images) => images.filter((img) => !img.hidden && img.naturalWidth === 0).length);
  assert(broken === 0, `${broken} party logo(s) shown broken`);
}

/** The pending operations as the card received them over the websocket. */
async function cardOperations(page) {
  return card(page).evaluate((element) => element._operations);
}

function pickOperations(operations) {
  const plain = (operation) => !operation.ui?.preApprovalScreen && !operation.ui?.preApprovalScreens?.length;
  const toApprove = operations.find((operation) => operation.requiresPin && operation.allowedSignatureType?.type === "2FA" && plain(operation) && /payment/i.test(operation.name));
  const toReject = operations.find((operation) => operation !== toApprove && plain(operation));
  assert(toApprove, `a 2FA payment among ${operations.map((operation) => operation.name)}`);
  assert(toReject, "a second operation to reject");
  return { toApprove, toReject };
}

async function approveWithPin(page, operation) {
  const item = card(page).locator(`[data-key="op:${operation.id}"]`);
  await item.getByRole("button", { name: "Approve", exact: true }).click();
  await item.getByText("Enter your PIN").waitFor();
  for (const digit of WRONG_PIN) await item.locator(`[data-digit="${digit}"]`).click();
  await item.getByRole("button", { name: "Confirm" }).click();
  await item.getByText(/Attempts left: \d+/).waitFor({ timeout: UI_TIMEOUT_MS });
  await screenshotPart(item, "e2e-wrong-pin");
  for (const digit of PIN) await item.locator(`[data-digit="${digit}"]`).click();
  await item.getByRole("button", { name: "Confirm" }).click();
  const result = card(page).locator(`[data-key="result:${operation.id}"]`);
  await result.getByText("Operation approved").waitFor({ timeout: UI_TIMEOUT_MS });
  await screenshotPart(result, "e2e-approved");
  await result.getByRole("button", { name: "Done" }).click();
}

async function rejectWithReason(page, operation) {
  const item = card(page).locator(`[data-key="op:${operation.id}"]`);
  await item.getByRole("button", { name: "Reject", exact: true }).click();
  await item.getByLabel("The details are wrong").check();
  await item.getByRole("button", { name: "Reject operation" }).click();
  const result = card(page).locator(`[data-key="result:${operation.id}"]`);
  await result.getByText("Operation rejected").waitFor({ timeout: UI_TIMEOUT_MS });
  await screenshotPart(result, "e2e-rejected");
}

const tools = (page) => card(page).locator("mobile-token-tools");

/** Type the PIN on a tool's pad and confirm it. */
async function enterToolPin(page) {
  const pad = tools(page).locator("[data-tool-pad]");
  await pad.getByText("Enter your PIN").waitFor({ timeout: UI_TIMEOUT_MS });
  for (const digit of PIN) await pad.locator(`[data-digit="${digit}"]`).click();
  await pad.getByRole("button", { name: "Confirm" }).click();
}

/** The history tool: the PIN pad, then the operations just approved and rejected with their states. */
async function historyWithPin(page, toApprove, toReject) {
  await tools(page).getByRole("button", { name: "History" }).click();
  await screenshotPart(tools(page), "e2e-history-pin");
  await enterToolPin(page);
  const history = tools(page).locator(".history");
  await history.waitFor({ timeout: UI_TIMEOUT_MS });
  const approved = history.locator(".history-item").filter({ hasText: toApprove.formData.title });
  const rejected = history.locator(".history-item").filter({ hasText: toReject.formData.title });
  await approved.first().getByText("Approved", { exact: true }).waitFor();
  await rejected.first().getByText("Rejected", { exact: true }).waitFor();
  await rejected.first().getByText("Reason: The details are wrong", { exact: true }).waitFor();
  await screenshotPart(tools(page), "e2e-history");
  await tools(page).getByRole("button", { name: "Close" }).click();
}

/**
 * The offline tool: the bank's QR text for a pending operation pasted in, the PIN, the code shown
 * large; the code typed back at the bank approves the operation there.
 */
async function offlineQrWithPin(page, emulator, operation) {
  const base = emulator.url.replace(/\/$/, "");
  const { qr } = await postJson(`${base}/admin/operations/${encodeURIComponent(operation.id)}/offline-qr`, {});
  await tools(page).getByRole("button", { name: "Offline QR code" }).click();
  await tools(page).locator('textarea[data-tool-input="qr"]').fill(qr);
  await screenshotPart(tools(page), "e2e-offline-qr");
  await tools(page).getByRole("button", { name: "Continue" }).click();
  await enterToolPin(page);
  const code = tools(page).locator(".offline-code");
  await code.waitFor({ timeout: UI_TIMEOUT_MS });
  await screenshotPart(tools(page), "e2e-offline-code");
  const response = await fetch(`${base}/admin/activations`);
  assert(response.ok, `activations: ${response.status}`);
  const listed = await response.json();
  const activations = Array.isArray(listed) ? listed : listed.activations;
  const activation = activations.find((candidate) => candidate.status === "ACTIVE");
  assert(activation, `an active activation among ${JSON.stringify(listed)}`);
  const typed = (await code.innerText()).replace(/\s/g, "");
  const { valid } = await postJson(`${base}/admin/verify-offline`, { activationId: activation.activationId, operationId: operation.id, code: typed });
  assert(valid, `the bank accepts the offline code ${typed}`);
  const status = await serverOperation(emulator, operation.id);
  assert(status.status === "APPROVED", `server status after the offline code: ${status.status}`);
  log(`the bank accepted the offline code for "${operation.formData.title}"`);
  await tools(page).getByRole("button", { name: "Close" }).click();
}

/** The demo's SDK 2.x payment: its screens one by one, its alert; then the bank's messages. */
async function screensAlertsAndMessages(page, emulator) {
  const guarded = (await cardOperations(page)).find((operation) => (operation.ui?.preApprovalScreens?.length ?? 0) > 1);
  assert(guarded, "the demo's operation with a list of pre-approval screens");
  const item = card(page).locator(`[data-key="op:${guarded.id}"]`);
  await item.getByText("Step 1 of 2").waitFor({ timeout: UI_TIMEOUT_MS });
  await item.locator(".alert-box").first().waitFor();
  await screenshotPart(item, "e2e-sdk2-screens");
  await item.getByRole("button", { name: "I understand" }).click({ timeout: UI_TIMEOUT_MS });
  await item.getByText("Step 2 of 2").waitFor();
  const response = await fetch(`${emulator.url.replace(/\/$/, "")}/admin/operations/${encodeURIComponent(guarded.id)}/totp`);
  assert(response.ok, `proximity code of ${guarded.id}: ${response.status}`);
  await item.locator('input[data-input="proximity"]').fill((await response.json()).totp);
  await item.getByRole("button", { name: "Continue" }).click();
  await item.getByText("You have never paid this account before.").waitFor();
  await screenshotPart(item, "e2e-sdk2-alert");

  await card(page).getByRole("button", { name: /^Messages/ }).click();
  await card(page).locator(".message-row").first().waitFor({ timeout: UI_TIMEOUT_MS });
  await screenshot(card(page), "e2e-messages");
  await card(page).locator(".message-row").first().click();
  await card(page).locator(".message-body").waitFor();
  const body = await card(page).locator(".message-body").innerHTML();
  assert(!/<script|onerror|javascript:/i.test(body), `the message body is sanitised: ${body}`);
  await screenshot(card(page), "e2e-message");
  await card(page).getByRole("button", { name: "Back to messages" }).click();
  await card(page).getByRole("button", { name: "Back to operations" }).click();
}

async function main() {
  const emulator = await startEmulator();
  const ha = await startHomeAssistant();
  const tokens = await onboard(ha.base);
  await waitForServices(ha.base, tokens.access_token);
  const browser = await launchBrowser();
  try {
    await confirmPendingHttpConfig(browser.context, ha.base, tokens.access_token);
    await signIn(browser.context, ha.base, tokens);
    const page = await browser.context.newPage();
    page.on("pageerror", (error) => log(`page error: ${error.message ?? error}`));
    await addIntegrationThroughUi(page, ha.base, emulator, tokens);

    await openDashboard(page, ha.base);
    await brokenLogosHidden(page);
    await screenshot(page, "e2e-dashboard-light");
    const { toApprove, toReject } = pickOperations(await cardOperations(page));
    log(`approving "${toApprove.formData.title}" and rejecting "${toReject.formData.title}"`);
    await approveWithPin(page, toApprove);
    await rejectWithReason(page, toReject);

    const approved = await serverOperation(emulator, toApprove.id);
    assert(approved.status === "APPROVED", `server status of the approved operation: ${approved.status}`);
    assert(approved.signatureType === "possession_knowledge", `approved with the PIN: ${approved.signatureType}`);
    const rejected = await serverOperation(emulator, toReject.id);
    assert(rejected.status === "REJECTED", `server status of the rejected operation: ${rejected.status}`);
    assert(rejected.rejectReason === "INCORRECT_DATA", `reject reason: ${rejected.rejectReason}`);
    log("the server recorded APPROVED (possession_knowledge) and REJECTED (INCORRECT_DATA)");
    await historyWithPin(page, toApprove, toReject);
    const plain = (operation) => !operation.ui?.preApprovalScreen && !operation.ui?.preApprovalScreens?.length;
    const offline = (await cardOperations(page)).find((operation) => ![toApprove.id, toReject.id].includes(operation.id) && plain(operation));
    assert(offline, "a pending operation left to sign offline");
    await offlineQrWithPin(page, emulator, offline);
    await screensAlertsAndMessages(page, emulator);

    await page.evaluate(() => localStorage.setItem("selectedTheme", JSON.stringify({ theme: "default", dark: true })));
    await openDashboard(page, ha.base);
    await sleep(1000);
    await screenshot(page, "e2e-dashboard-dark");
    const phone = await browser.context.newPage();
    await phone.setViewportSize(PHONE_VIEWPORT);
    await openDashboard(phone, ha.base);
    await sleep(1000);
    await screenshot(phone, "e2e-dashboard-phone");
    await coldLoads(ha.base, tokens, COLD_LOADS);
    log("passed");
  } catch (error) {
    // The context's first tab stays blank: only pages that show something are worth a look.
    const pages = browser.context.pages().filter((page) => page.url() !== "about:blank");
    for (const [index, page] of pages.entries()) await screenshot(page, `e2e-failure-${index}`).catch(() => {});
    if (existsSync(ha.logFile)) {
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, "e2e-home-assistant.log"), readFileSync(ha.logFile));
      log(`Home Assistant log: ${join(ARTIFACTS, "e2e-home-assistant.log")}`);
    }
    throw error;
  } finally {
    await browser.close();
  }
}

try {
  await main();
} finally {
  stopChildren();
  await sleep(500);
  rmSync(workDir, { recursive: true, force: true });
}
