/**
 * Defines the card's custom elements in the registry the frontend reads, and keeps them there.
 *
 * Home Assistant's frontend replaces `window.customElements` with a scoped-registry polyfill
 * while it boots. The card is an extra frontend module, which can run before that swap: its
 * elements are then defined only in the registry the frontend no longer reads, and dashboards
 * show "Custom element doesn't exist". So the definitions are repeated in whichever registry
 * `window.customElements` is, each time it is replaced, until the frontend has booted (its
 * <home-assistant> element is defined in the current registry) or a time limit passes.
 */

const CHECK_INTERVAL_MS = 50;
const WATCH_LIMIT_MS = 5 * 60 * 1000;
const FRONTEND_ROOT = "home-assistant";

/** Define each [tag, class] not yet in `registry`; returns whether all of them are there. */
export function defineIn(registry, definitions) {
  let complete = true;
  for (const [tag, element] of definitions) {
    if (registry.get(tag)) continue;
    try {
      registry.define(tag, element);
    } catch (error) {
      // Another copy of the card (an older cached version, or a dashboard resource) won.
      if (!registry.get(tag)) {
        complete = false;
        console.warn(`mobile-token-card: cannot define <${tag}>`, error);
      }
    }
  }
  return complete;
}

/**
 * Define now, then again in every registry that replaces the current one.
 * `scope` is the window (a stand-in in the unit tests); returns a function that stops watching.
 */
export function defineElements(definitions, scope = globalThis, options = {}) {
  const interval = options.intervalMs ?? CHECK_INTERVAL_MS;
  const limit = options.limitMs ?? WATCH_LIMIT_MS;
  let registry = scope.customElements;
  if (!registry) return () => {};
  defineIn(registry, definitions);
  const started = Date.now();
  const booted = () => Boolean(scope.customElements.get(FRONTEND_ROOT));
  if (booted()) return () => {};
  const timer = setInterval(() => {
    if (scope.customElements !== registry) {
      registry = scope.customElements;
      defineIn(registry, definitions);
    }
    if (booted() || Date.now() - started > limit) clearInterval(timer);
  }, interval);
  return () => clearInterval(timer);
}
