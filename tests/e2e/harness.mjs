/**
 * The card alone in a real browser, against the mock connection of mock-hass.js:
 * every attribute type, the pre-approval screens, the PIN pad with a wrong PIN,
 * rejection with a reason, the results, light and dark themes, a phone viewport
 * and Czech. Screenshots go to artifacts/harness-*.png.
 */
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { PHONE_VIEWPORT, PROJECT_ROOT, assert, launchBrowser, screenshot } from "./browser.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript" };

function serveProject() {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname));
    if (path.includes("..")) return response.writeHead(403).end();
    try {
      const body = await readFile(join(PROJECT_ROOT, path));
      response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function openHarness(context, base, query, viewport) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(`${base}/tests/e2e/harness.html?${query}`);
  page.errors = errors;
  return page;
}

const card = (page) => page.locator("mobile-token-card");
const item = (page, id) => page.locator(`mobile-token-card [data-key="op:${id}"]`);

async function checkList(page) {
  await page.getByText("Payment approval").waitFor();
  const text = (await card(page).locator(".list").innerText()).replace(/\s+/g, " ");
  for (const expected of ["2 365,50 Kč", "238400856/0300", "Utility Bill Payment", "Be careful", "Scan the QR code", "Expires in"]) {
    assert(text.includes(expected), `list shows ${expected} in ${text}`);
  }
}

async function checkWrongPinThenApprove(page) {
  const payment = item(page, "op-payment");
  await payment.getByRole("button", { name: "Approve", exact: true }).click();
  await payment.getByText("Enter your PIN").waitFor();
  assert(await payment.getByRole("button", { name: "Approve without PIN" }).isVisible(), "biometry offered");
  for (const digit of "9999") await payment.locator(`[data-digit="${digit}"]`).click();
  assert((await payment.locator(".dot.filled").count()) === 4, "four masked digits");
  await payment.getByRole("button", { name: "Confirm" }).click();
  await payment.getByText("Attempts left: 4").waitFor();
  await screenshot(card(page), "harness-wrong-pin");
  for (const digit of "1234") await page.keyboard.press(digit);
  await page.keyboard.press("Enter");
  await page.getByText("Operation approved").waitFor();
  await page.getByText("The payment was sent.").waitFor();
  await page.getByText("Back to the e-shop").waitFor();
  await screenshot(card(page), "harness-approved-redirect");
  await page.getByRole("button", { name: "Done" }).click();
}

async function checkWarningSliderAndReject(page) {
  const warning = item(page, "op-card");
  const slider = warning.locator('input[type="range"]');
  await slider.fill("100");
  await warning.getByText("e-Shop Ltd.").waitFor();
  const buttons = await warning.locator(".buttons button").allInnerTexts();
  assert(buttons.join("|") === "Approve|Reject", `flipButtons puts Approve first, got ${buttons}`);
  await screenshot(card(page), "harness-warning-detail");
  await warning.getByRole("button", { name: "Reject", exact: true }).click();
  await warning.getByText("Why do you reject it?").waitFor();
  await warning.getByLabel("Custom reason").check();
  await warning.locator("input.custom-reason").fill("possible_fraud");
  await screenshot(card(page), "harness-reject-reason");
  await warning.getByRole("button", { name: "Reject operation" }).click();
  await page.getByText("Operation rejected").waitFor();
  const sent = page.evaluate(() => window.mockHass.connection.calls.find((call) => call.type === "mobile_token/reject"));
  assert((await sent).reason === "POSSIBLE_FRAUD", "custom reason sent upper-cased");
}

async function checkProximity(page) {
  const login = item(page, "op-login");
  await login.getByRole("button", { name: "Continue" }).click();
  await login.getByText("Enter the code from the bank's QR code first.").waitFor();
  await login.locator("input[type=text]").fill("12345678");
  await login.getByRole("button", { name: "Continue" }).click();
  await login.getByRole("button", { name: "Approve", exact: true }).click();
  await page.getByText("Operation approved").waitFor();
  const sent = await page.evaluate(() => window.mockHass.connection.calls.find((call) => call.operation_id === "op-login"));
  assert(sent.totp === "12345678" && !sent.pin && !sent.factor, "1FA approval with the TOTP only");
}

async function checkScreensAlertsAndScanner(page) {
  const guarded = item(page, "op-guarded");
  await guarded.getByText("Step 1 of 2").waitFor();
  await guarded.getByText("If someone is guiding you on the phone, hang up now.").waitFor();
  assert(await guarded.locator('a[href="tel:+420800123456"]').isVisible(), "call button with a tel: link");
  await guarded.getByRole("button", { name: /Available in/ }).waitFor();
  // It expires 9 minutes after the browser's now; the server's clock is 20 s ahead.
  const countdown = await guarded.locator(".countdown").innerText();
  const [minutes, seconds] = countdown.match(/(\d+):(\d+)/).slice(1).map(Number);
  assert(minutes * 60 + seconds <= 521, `the countdown runs on the server's clock: ${countdown}`);
  await screenshot(card(page), "harness-sdk2-screens");
  await guarded.getByRole("button", { name: "I understand" }).click();
  await guarded.getByText("Step 2 of 2").waitFor();
  await guarded.getByRole("button", { name: "Scan" }).click();
  await guarded.getByText("You have never paid this account before.").waitFor();
  const text = await card(page).locator(".op-title").first().innerText();
  assert(text.includes("Pay 24 990,00 Kč"), `list template title, got ${text}`);
  await screenshot(card(page), "harness-sdk2-alert");
  await guarded.getByRole("button", { name: "Approve", exact: true }).click();
  for (const digit of "1234") await page.keyboard.press(digit);
  await page.keyboard.press("Enter");
  await page.getByText("Operation approved").waitFor();
  const sent = await page.evaluate(() => window.mockHass.connection.calls.find((call) => call.type === "mobile_token/approve"));
  assert(sent.totp === "12345678", `scanned proximity code sent, got ${sent.totp}`);
  assert(sent.screen_visits.map((visit) => `${visit.screen}:${visit.action}`).join() === "fraud-warning:CONTINUE,branch-scan:SCAN", "screen record sent");
  const scanned = await page.evaluate(() => window.mockHass.connection.calls.some((call) => call.type === "bar_code/scan"));
  assert(scanned, "the scanner was asked over the external bus");
}

async function checkMessages(page) {
  await card(page).getByRole("button", { name: "Messages (1)" }).click();
  await page.getByText("Rates for December are out.").waitFor();
  await screenshot(card(page), "harness-messages");
  await card(page).getByRole("button", { name: /New exchange rates/ }).click();
  await page.getByText("See the rates").waitFor();
  const html = await card(page).locator(".message-body").innerHTML();
  assert(!/script|onerror|javascript:|<img/i.test(html), `sanitised body, got ${html}`);
  assert(await page.evaluate(() => window.hacked !== true), "nothing of the message ran");
  await screenshot(card(page), "harness-message-html");
  await card(page).getByRole("button", { name: "Back to messages" }).click();
  await card(page).getByRole("button", { name: "Back to operations" }).click();
}

async function checkRefreshProgress(page) {
  await card(page).locator(".progress").waitFor({ state: "hidden" });
  await card(page).getByRole("button", { name: "Refresh" }).click();
  await card(page).locator(".progress").waitFor({ state: "visible" });
  await screenshot(card(page), "harness-refreshing");
  await card(page).locator(".progress").waitFor({ state: "hidden" });
  const refreshes = await page.evaluate(() => window.mockHass.connection.calls.filter((call) => call.type === "mobile_token/refresh").length);
  assert(refreshes === 2, `one refresh on opening and one on the button, got ${refreshes}`);
}

async function checkClaimByScan(page) {
  await card(page).getByRole("button", { name: "Claim", exact: true }).click();
  await card(page).getByText("Claim an operation").waitFor();
  await screenshot(card(page), "harness-claim");
  await card(page).getByRole("button", { name: "Scan" }).click();
  await item(page, "op-claimed").getByText("Branch log-in").waitFor();
}

async function main() {
  const server = await serveProject();
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchBrowser();
  try {
    const page = await openHarness(browser.context, base, "theme=light");
    await checkList(page);
    await screenshot(card(page), "harness-light");
    await checkWrongPinThenApprove(page);
    await checkWarningSliderAndReject(page);
    await checkProximity(page);
    assert(page.errors.length === 0, `no page errors: ${page.errors}`);

    const dark = await openHarness(browser.context, base, "theme=dark&editor=1");
    await checkList(dark);
    await screenshot(dark, "harness-dark");
    await dark.locator("mobile-token-card-editor select").waitFor();
    await screenshot(dark.locator("mobile-token-card-editor"), "harness-editor");

    const phone = await openHarness(browser.context, base, "theme=light&lang=cs", PHONE_VIEWPORT);
    await phone.getByText("Potvrzení platby".slice(0, 0) || "Vyprší za").first().waitFor();
    await screenshot(phone, "harness-phone-cs");
    const pad = item(phone, "op-payment");
    await pad.getByRole("button", { name: "Potvrdit", exact: true }).click();
    await pad.getByText("Zadejte PIN").waitFor();
    await screenshot(phone, "harness-phone-pin");

    const sdk2 = await openHarness(browser.context, base, "scenario=sdk2&scanner=12345678");
    await checkScreensAlertsAndScanner(sdk2);
    await checkMessages(sdk2);
    await checkRefreshProgress(sdk2);
    assert(sdk2.errors.length === 0, `no page errors: ${sdk2.errors}`);
    const claim = await openHarness(browser.context, base, "scenario=sdk2&scanner=https%3A%2F%2Fbank.example%2Fclaim%3Foid%3Dop-claimed");
    await checkClaimByScan(claim);
    const typed = await openHarness(browser.context, base, "scenario=sdk2");
    await typed.getByText("Step 1 of 2").waitFor();
    assert(!(await card(typed).getByRole("button", { name: "Scan" }).count()), "no Scan button without the app's scanner");

    const empty = await openHarness(browser.context, base, "scenario=empty");
    await empty.getByText("No operations waiting").waitFor();
    await screenshot(card(empty), "harness-empty");

    const failing = await openHarness(browser.context, base, "scenario=error&theme=dark");
    await failing.getByText("Cannot load operations").waitFor();
    await screenshot(card(failing), "harness-error");
    console.log("harness: all checks passed");
  } finally {
    await browser.close();
    server.close();
  }
}

await main();
