/**
 * A stand-in for the `hass` object the card gets from Home Assistant: a websocket
 * connection answering mobile_token/subscribe, /approve and /reject from mock
 * operations. PIN "1234" is correct; any other costs one of five attempts.
 */

const CORRECT_PIN = "1234";
const MAX_ATTEMPTS = 5;

function pngDataUrl(draw, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  draw(canvas.getContext("2d"));
  return canvas.toDataURL("image/png");
}

function logo() {
  return pngDataUrl((ctx) => {
    ctx.fillStyle = "#1e88e5";
    ctx.fillRect(0, 0, 96, 96);
    ctx.fillStyle = "#fff";
    ctx.font = "bold 44px sans-serif";
    ctx.fillText("eS", 22, 62);
  }, 96, 96);
}

function thumbnail() {
  return pngDataUrl((ctx) => {
    const gradient = ctx.createLinearGradient(0, 0, 320, 160);
    gradient.addColorStop(0, "#ff9800");
    gradient.addColorStop(1, "#8e24aa");
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, 320, 160);
    ctx.fillStyle = "#fff";
    ctx.font = "bold 28px sans-serif";
    ctx.fillText("Invoice 2024/117", 40, 90);
  }, 320, 160);
}

function inMinutes(minutes) {
  return new Date(Date.now() + minutes * 60000).toISOString().replace(/\.\d{3}Z$/, "+0000");
}

/** An operation of a Mobile Token SDK 2.x server: an alert, two pre-approval screens, templates. */
export function guardedOperation() {
  return {
    id: "op-guarded",
    name: "authorize_payment_guarded",
    data: "A1*A24990CZK*Q19-2000145399/0800",
    status: "PENDING",
    operationCreated: inMinutes(0),
    operationExpires: inMinutes(9),
    allowedSignatureType: { type: "2FA", variants: ["possession_knowledge"] },
    formData: {
      title: "Payment to a new account",
      message: "Please check the payment carefully.",
      attributes: [
        { type: "AMOUNT", id: "operation.amount", label: "Amount", amount: 24990, currency: "CZK", amountFormatted: "24 990,00", currencyFormatted: "Kč" },
        { type: "KEY_VALUE", id: "operation.account", label: "To account", value: "19-2000145399/0800" },
        { type: "ALERT", id: "operation.newPayee", label: "New payee", alertType: "WARNING", title: "New payee", message: "You have never paid this account before." },
      ],
    },
    ui: {
      blockApprovalOnCall: true,
      preApprovalScreens: [
        {
          id: "fraud-warning",
          type: "WARNING",
          heading: "Watch out for fraud",
          message: "Nobody from the bank ever asks you to approve a payment by phone.",
          elements: [
            { id: "hang-up", type: "ALERT", style: "DANGER", text: "If someone is guiding you on the phone, hang up now." },
            { id: "at-once", type: "LIST_ITEM", style: "WARNING", text: "The money leaves your account at once." },
            { id: "call", type: "BUTTON", action: "PHONE", href: "+420800123456", text: "Call the bank" },
          ],
          controls: { approve: { type: "BUTTON", text: "I understand", counter: 3 } },
        },
        { id: "branch-scan", type: "QR_SCAN", heading: "Scan the QR code", message: "Scan the QR code shown at the branch." },
      ],
    },
    templates: { list: { title: "Pay ${operation.amount}" } },
    requiresPin: true,
    allowsBiometry: false,
    requiresProximity: true,
  };
}

/** The bank's inbox: a plain message and an HTML one with markup the card must not run. */
export function mockMessages() {
  return [
    { id: "msg-rates", subject: "New exchange rates", summary: "Rates for December are out.", type: "html", read: false, created: "2026-11-30T09:00:00+00:00",
      body: '<p>Dear customer,</p><p>the <b>exchange rates</b> are out. <a href="https://www.example.com/rates">See the rates</a> <a href="javascript:alert(1)">or this</a>.</p><script>window.hacked = true</script><img src="x" onerror="window.hacked = true">' },
    { id: "msg-hello", subject: "Welcome", summary: "Your token is ready.", type: "text", read: true, created: "2026-11-29T08:00:00+00:00", body: "Hello,\nyour mobile token in Home Assistant is ready." },
  ];
}

export function mockOperations() {
  return [
    {
      id: "op-payment",
      name: "authorize_payment",
      data: "A1*A100CZK*Q238400856/0300**D20170629*NUtility Bill Payment - 05/2017",
      status: "PENDING",
      operationCreated: inMinutes(0),
      operationExpires: inMinutes(4.5),
      allowedSignatureType: { type: "2FA", variants: ["possession_knowledge", "possession_biometry"] },
      formData: {
        title: "Payment approval",
        message: "Hello, please confirm the following payment:",
        resultTexts: { success: "The payment was sent.", reject: "The payment was cancelled." },
        attributes: [
          { type: "AMOUNT", id: "operation.amount", label: "Amount", amount: 2365.5, currency: "CZK", amountFormatted: "2 365,50", currencyFormatted: "Kč" },
          { type: "KEY_VALUE", id: "operation.account", label: "To account", value: "238400856/0300" },
          { type: "NOTE", id: "operation.note", label: "Note", note: "Utility Bill Payment - 05/2017" },
        ],
      },
      ui: {
        postApprovalScreen: {
          type: "MERCHANT_REDIRECT",
          heading: "Thank you",
          message: "Your order is paid.",
          payload: { redirectText: "Back to the e-shop", redirectUrl: "https://shop.example.com/done", countdown: 5 },
        },
      },
      requiresPin: true,
      allowsBiometry: true,
      requiresProximity: false,
    },
    {
      id: "op-card",
      name: "authorize_payment_card",
      data: "A1*A25EUR*Ishop",
      status: "PENDING",
      operationCreated: inMinutes(0),
      operationExpires: inMinutes(9),
      allowedSignatureType: { type: "2FA", variants: ["possession_knowledge"] },
      formData: {
        title: "Card payment abroad",
        message: "A merchant asks for a payment in euros.",
        attributes: [
          { type: "HEADING", id: "h1", label: "Merchant" },
          { type: "PARTY_INFO", id: "party", label: "", partyInfo: { logoUrl: logo(), name: "e-Shop Ltd.", description: "Electronics and gadgets", websiteUrl: "https://shop.example.com" } },
          { type: "AMOUNT_CONVERSION", id: "conv", label: "Conversion", dynamic: true, sourceAmount: 25, sourceCurrency: "EUR", targetAmount: 631.25, targetCurrency: "CZK", sourceValueFormatted: "€25.00", targetValueFormatted: "631.25 Kč" },
          { type: "IMAGE", id: "img", label: "Invoice", thumbnailUrl: thumbnail() },
          { type: "ALERT", id: "alert", label: "Unusual country" },
        ],
      },
      ui: {
        flipButtons: true,
        preApprovalScreen: {
          type: "WARNING",
          heading: "Be careful",
          message: "Nobody from the bank ever asks you to approve a payment on the phone.",
          items: ["Check the amount", "Check the merchant"],
          approvalType: "SLIDER",
        },
        postApprovalScreen: {
          type: "REVIEW",
          heading: "Summary",
          message: "You approved:",
          payload: { attributes: [{ type: "KEY_VALUE", id: "r", label: "Reference", value: "2024/117" }] },
        },
      },
      requiresPin: true,
      allowsBiometry: false,
      requiresProximity: false,
    },
    {
      id: "op-login",
      name: "login",
      data: "A2*R12345",
      status: "PENDING",
      operationCreated: inMinutes(0),
      operationExpires: inMinutes(2),
      allowedSignatureType: { type: "1FA", variants: [] },
      formData: { title: "Log in to internet banking", message: "Someone is logging in from Prague, Chrome on Windows.", attributes: [] },
      ui: { preApprovalScreen: { type: "QR_SCAN", heading: "Scan the QR code", message: "Scan the QR code shown on the login page." } },
      requiresPin: false,
      allowsBiometry: false,
      requiresProximity: true,
    },
  ];
}

export function createMockHass({ language = "en", scenario = "list", scanner = null } = {}) {
  let operations = scenario === "empty" ? [] : scenario === "sdk2" ? [guardedOperation()] : mockOperations();
  const messages = mockMessages();
  let attempts = MAX_ATTEMPTS;
  const subscribers = new Set();
  const calls = [];
  // The server's clock runs 20 s ahead of the browser's: the countdown follows the server.
  const payload = () => ({ operations, allowBiometry: true, serverTime: Date.now() + 20000, unreadMessages: messages.filter((m) => !m.read).length });
  const notify = () => subscribers.forEach((callback) => callback(payload()));
  const remove = (id) => {
    operations = operations.filter((operation) => operation.id !== id);
    setTimeout(notify, 50);
  };
  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const connection = {
    calls,
    async subscribeMessage(callback, message) {
      calls.push(message);
      if (scenario === "error") {
        throw { code: "entry_not_loaded", message: "Config entry is not loaded" };
      }
      subscribers.add(callback);
      setTimeout(() => callback(payload()), 10);
      return async () => subscribers.delete(callback);
    },
    async sendMessagePromise(message) {
      calls.push({ ...message, pin: message.pin ? "****" : undefined });
      await delay(150);
      if (message.type === "config_entries/get") {
        return [{ entry_id: "entry-1", title: "Demo bank", domain: "mobile_token", state: "loaded" }];
      }
      if (message.type === "mobile_token/approve") {
        if (message.pin !== undefined && message.pin !== CORRECT_PIN) {
          attempts -= 1;
          throw {
            code: "wrong_pin",
            message: `Wrong PIN, ${attempts} attempts remaining`,
            translation_key: "wrong_pin",
            translation_domain: "mobile_token",
            translation_placeholders: { remaining_attempts: String(attempts) },
          };
        }
        attempts = MAX_ATTEMPTS;
        remove(message.operation_id);
        return { id: message.operation_id, status: "APPROVED" };
      }
      if (message.type === "mobile_token/reject") {
        remove(message.operation_id);
        return { id: message.operation_id, status: "REJECTED" };
      }
      if (message.type === "mobile_token/refresh") {
        await delay(600);
        return { available: true };
      }
      if (message.type === "mobile_token/messages") {
        const listed = message.message_id ? messages.filter((m) => m.id === message.message_id) : messages;
        return { messages: listed.map((m) => (message.message_id ? { ...m } : { ...m, body: undefined })) };
      }
      if (message.type === "mobile_token/message_read") {
        messages.forEach((m) => { if (!message.message_id || m.id === message.message_id) m.read = true; });
        return { unread: messages.filter((m) => !m.read).length };
      }
      if (message.type === "mobile_token/claim") {
        if (message.operation_id !== "op-claimed") throw { code: "operation_not_found", message: "Operation not found" };
        const claimed = { ...guardedOperation(), id: "op-claimed", ui: undefined, templates: undefined, requiresProximity: false, formData: { title: "Branch log-in", message: "Confirm the log-in at the branch.", attributes: [] } };
        operations = [claimed, ...operations];
        setTimeout(notify, 20);
        return { operation: claimed };
      }
      throw { code: "unknown_command", message: "Unknown command." };
    },
  };
  // The companion app's external bus with a camera scanner that reads `scanner`.
  const external = scanner === null ? undefined : {
    config: { hasBarCodeScanner: 1 },
    fireMessage(message) {
      calls.push(message);
      if (message.type === "bar_code/scan") {
        setTimeout(() => this.receiveMessage({ id: 7, type: "command", command: "bar_code/scan_result", payload: { rawValue: scanner, format: "qr_code" } }), 100);
      }
    },
    receiveMessage() {},
  };
  return { language, locale: { language }, connection, auth: { external } };
}
