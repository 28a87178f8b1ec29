// The card's elements end up in whichever registry the frontend reads: node --test tests/card/*.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";

import { defineElements, defineIn } from "../../custom_components/mobile_token/frontend/define-elements.js";

class Registry {
  constructor() {
    this.definitions = new Map();
  }
  get(tag) {
    return this.definitions.get(tag);
  }
  define(tag, element) {
    if (this.definitions.has(tag)) throw new Error(`${tag} is already defined`);
    this.definitions.set(tag, element);
  }
}

class Card {}
class Editor {}
class Frontend {}
const DEFINITIONS = [
  ["mobile-token-card", Card],
  ["mobile-token-card-editor", Editor],
];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("defines what is missing and keeps what is there", () => {
  const registry = new Registry();
  class Older {}
  registry.define("mobile-token-card", Older);
  assert.equal(defineIn(registry, DEFINITIONS), true);
  assert.equal(registry.get("mobile-token-card"), Older);
  assert.equal(registry.get("mobile-token-card-editor"), Editor);
});

test("a definition refused by the registry is reported, not thrown", () => {
  const registry = new Registry();
  registry.define = () => {
    throw new Error("refused");
  };
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(defineIn(registry, DEFINITIONS), false);
  } finally {
    console.warn = warn;
  }
});

test("a registry swapped in while the frontend boots gets the definitions too", async () => {
  const scope = { customElements: new Registry() };
  const stop = defineElements(DEFINITIONS, scope, { intervalMs: 5, limitMs: 10_000 });
  try {
    assert.equal(scope.customElements.get("mobile-token-card"), Card);
    // The frontend's boot: a new registry replaces the first, then the app defines itself there.
    await sleep(20);
    scope.customElements = new Registry();
    await sleep(30);
    assert.equal(scope.customElements.get("mobile-token-card"), Card);
    assert.equal(scope.customElements.get("mobile-token-card-editor"), Editor);
    scope.customElements.define("home-assistant", Frontend);
    await sleep(20);
    // Booted: later swaps are none of the card's business.
    scope.customElements = new Registry();
    await sleep(30);
    assert.equal(scope.customElements.get("mobile-token-card"), undefined);
  } finally {
    stop();
  }
});

test("after the frontend has booted it defines once and does not watch", () => {
  const scope = { customElements: new Registry() };
  scope.customElements.define("home-assistant", Frontend);
  const stop = defineElements(DEFINITIONS, scope, { intervalMs: 5 });
  assert.equal(scope.customElements.get("mobile-token-card"), Card);
  stop();
});

test("watching ends at the time limit", async () => {
  const scope = { customElements: new Registry() };
  defineElements(DEFINITIONS, scope, { intervalMs: 5, limitMs: 20 });
  await sleep(60);
  scope.customElements = new Registry();
  await sleep(30);
  assert.equal(scope.customElements.get("mobile-token-card"), undefined);
});
