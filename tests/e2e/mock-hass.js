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

export function createMockHass({ language = "en", scenario = "list" } = {}) {
  let operations = scenario === "empty" ? [] : mockOperations();
  let attempts = MAX_ATTEMPTS;
  const subscribers = new Set();
  const calls = [];
  const payload = () => ({ operations, allowBiometry: true });
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
      throw { code: "unknown_command", message: "Unknown command." };
    },
  };
  return { language, locale: { language }, connection };
}
