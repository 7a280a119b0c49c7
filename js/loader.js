// storefront-loyalty's script-tag loader. A merchant pastes one tag:
//   <script type="module" src=".../storefront-loyalty.js" data-api-base="https://shop.example/loyalty"
//           data-customer-id="..." data-timestamp="..." data-digest="..." data-locale="zh-CN"></script>
// It checks the browser, reads its own data-* settings, loads the wasm (in parallel with the glue),
// registers the elements and adds the launcher unless the page placed one. Anything wrong ends in one
// console message and an untouched page: nothing here throws into the shop's scripts.
//
// Every file it brings in is checked against its SRI hash before it runs (the page's integrity attribute
// covers this file, which holds the others' hashes): the wasm by fetch's `integrity`, each JavaScript module
// by a <link rel=modulepreload integrity> that puts it into the page's module map only if its bytes match, and
// only once that link has loaded is it imported (import() has no integrity option, and an import map with
// integrity is an inline script, which a strict CSP refuses). A module added later (one loaded on demand) is
// listed here with its hash and goes through `verified` the same way. The names and hashes are written by
// scripts/package.mjs (pkg/) and scripts/dist.mjs (dist/), leaves first; without hashes nothing is checked.
const FILES = {"glue":["./storefront_loyalty.js",""],"elements":["./elements.js",""],"wasm":["./storefront_loyalty_bg.wasm",""]};
const KEY = Symbol.for("storefront-loyalty");
const PREFIX = "storefront-loyalty:";

// Settings and the attribute each comes from, so a problem names what the merchant wrote.
const ATTRIBUTES = {
  apiBase: "data-api-base",
  customerId: "data-customer-id",
  timestamp: "data-timestamp",
  digest: "data-digest",
  locale: "data-locale",
  currency: "data-currency",
  signInUrl: "data-sign-in-url",
  joinUrl: "data-join-url",
  cacheKey: "data-cache-key",
  timeoutMs: "data-timeout-ms",
  catalogLimit: "data-catalog-limit",
  historyHalfLifeDays: "data-history-half-life-days",
  requireConsent: "data-require-consent",
  codesInEvents: "data-codes-in-events",
};
const POSITIONS = ["bottom-right", "bottom-left", "top-right", "top-left"];
const LENGTH = /^\d{1,4}(\.\d+)?(px|rem|em|vw|vh)$|^0$/;

function supported() {
  return (
    typeof WebAssembly === "object" &&
    "customElements" in window &&
    "attachShadow" in Element.prototype &&
    "replaceChildren" in Element.prototype &&
    "adoptedStyleSheets" in Document.prototype &&
    "replaceSync" in CSSStyleSheet.prototype &&
    typeof HTMLDialogElement === "function" &&
    "AbortController" in window &&
    // Safari before 17 and Firefox before 115 ignore <link rel=modulepreload>: its load would never come, and
    // without it nothing is verified.
    document.createElement("link").relList.supports("modulepreload")
  );
}

// The tag that loaded this module: the one <script type=module> whose src is this module's URL. A module has
// no document.currentScript, and markup the page lets through can hold a tag with this URL that never runs
// (inserted by innerHTML) but whose data-* would be read. So several tags are accepted only when their data-*
// settings are the same (the tag pasted twice); otherwise nothing says which is ours, and the widget stays off.
function ownTag() {
  const tags = [...document.querySelectorAll("script[type=module][src]")].filter((s) => s.src === import.meta.url);
  const data = (tag) => new Map(tag.getAttributeNames().filter((n) => n.startsWith("data-")).map((n) => [n, tag.getAttribute(n)]));
  const first = data(tags[0] ?? document.createElement("script"));
  const differ = new Set();
  for (const tag of tags.slice(1)) {
    const other = data(tag);
    for (const name of new Set([...first.keys(), ...other.keys()])) if (first.get(name) !== other.get(name)) differ.add(name);
  }
  if (differ.size > 0) {
    return `${tags.length} <script> tags load the loader with different settings (${[...differ].sort().join(", ")}); the widget stays off, as injected markup could choose its settings: keep one tag`;
  }
  return tags[0] ?? "could not find its own <script type=\"module\"> tag";
}

// Reads the tag into a defineElements config; returns [config, launcher options] or a problem text.
function settings(tag) {
  const data = (name) => {
    const value = tag.getAttribute(name);
    return value === null || value.trim() === "" ? undefined : value.trim();
  };
  const config = {};
  const apiBase = data("data-api-base");
  if (!apiBase) return `${ATTRIBUTES.apiBase} is required (the base URL of the loyalty API)`;
  // A path on the shop's own site ("/loyalty") is resolved against the page.
  config.apiBase = apiBase.startsWith("/") && !apiBase.startsWith("//") ? new URL(apiBase, location.origin).href : apiBase;
  const id = { customerId: data("data-customer-id"), timestamp: data("data-timestamp"), digest: data("data-digest") };
  const given = Object.entries(id).filter(([, v]) => v !== undefined);
  if (given.length > 0 && given.length < 3) {
    const missing = Object.keys(id).filter((k) => id[k] === undefined).map((k) => ATTRIBUTES[k]);
    return `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing: a signed-in shopper needs data-customer-id, data-timestamp and data-digest`;
  }
  if (given.length === 3) {
    config.identity = { ...id, timestamp: /^\d+$/.test(id.timestamp) ? Number(id.timestamp) : id.timestamp };
  }
  for (const key of ["locale", "currency", "signInUrl", "joinUrl", "cacheKey"]) {
    const value = data(ATTRIBUTES[key]);
    if (value !== undefined) config[key] = value;
  }
  // Numbers as numbers; anything else is passed on as written, for createClient to refuse by name.
  for (const key of ["timeoutMs", "catalogLimit", "historyHalfLifeDays"]) {
    const value = data(ATTRIBUTES[key]);
    if (value !== undefined) config[key] = /^\d+$/.test(value) ? Number(value) : value;
  }
  for (const key of ["requireConsent", "codesInEvents"]) {
    const value = data(ATTRIBUTES[key]);
    if (value !== undefined) config[key] = value === "true" ? true : value === "false" ? false : value;
  }
  const launcher = { add: data("data-launcher") !== "false", position: data("data-position") };
  if (launcher.position !== undefined && !POSITIONS.includes(launcher.position)) {
    return `data-position must be one of ${POSITIONS.join(", ")}, got "${launcher.position}"`;
  }
  for (const axis of ["x", "y"]) {
    const offset = data(`data-offset-${axis}`);
    if (offset !== undefined && !LENGTH.test(offset)) {
      return `data-offset-${axis} must be a CSS length such as 24px or 1.5rem, got "${offset}"`;
    }
    launcher[axis] = offset;
  }
  return [config, launcher];
}

// A file's URL, resolved against this module's.
const url = (name) => new URL(FILES[name][0], import.meta.url).href;

// Resolves once every module is in the module map with the bytes its hash names (all fetched at once). A
// modulepreload hint the page already holds for one of them without this very hash would have put its own copy
// in the module map first (the map ignores a later link's integrity): refused, so the check cannot be emptied.
function verified(names) {
  return Promise.all(names.map((name) => new Promise((resolve, reject) => {
    const [, integrity] = FILES[name];
    const href = url(name);
    if (!integrity) return resolve();
    const hinted = [...document.querySelectorAll("link[rel~=modulepreload]")].filter((l) => l.href === href);
    if (hinted.some((l) => l.integrity !== integrity)) {
      return reject(new Error(`the page has a modulepreload link for ${href} without its integrity hash ${integrity}; copy the hash into it`));
    }
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.integrity = integrity;
    link.href = href;
    link.onload = () => {
      link.remove();
      resolve();
    };
    link.onerror = () => {
      link.remove();
      reject(new Error(`${href} does not match its integrity hash (or could not be fetched); it was not run`));
    };
    document.head.append(link);
  })));
}

// A LoyaltyError's problems, named by the attributes they came from.
function explain(error) {
  const problems = Array.isArray(error?.problems) ? error.problems : [];
  if (problems.length === 0) return String(error?.message ?? error);
  return problems
    .map(({ path, message }) => {
      const key = String(path).split(/[.[]/).filter((p) => p !== "identity")[0];
      return `${ATTRIBUTES[key] ?? path} ${message}`;
    })
    .join("; ");
}

async function start() {
  if (window[KEY]) {
    console.warn(PREFIX, "already loaded on this page; this copy does nothing");
    return;
  }
  window[KEY] = true;
  if (!supported()) {
    console.info(PREFIX, "this browser lacks what the loyalty widget needs (custom elements, shadow DOM, constructable stylesheets, <dialog>, module preloading, WebAssembly); the widget stays off");
    return;
  }
  // Until the elements are defined, badges keep their final size, so the page does not move when they are.
  const reserve = new CSSStyleSheet();
  reserve.replaceSync(
    "loyalty-points:not(:defined),loyalty-cart-points:not(:defined){display:inline-block;vertical-align:top;min-block-size:24px;min-inline-size:144px}",
  );
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, reserve];
  const tag = ownTag();
  if (typeof tag === "string") {
    console.error(PREFIX, tag);
    return;
  }
  const read = settings(tag);
  if (typeof read === "string") {
    console.error(PREFIX, read);
    return;
  }
  const [config, launcher] = read;
  // The wasm starts downloading now, beside the glue.
  const [wasmFile, wasmIntegrity] = FILES.wasm;
  const wasm = fetch(new URL(wasmFile, import.meta.url), wasmIntegrity ? { integrity: wasmIntegrity } : {});
  wasm.catch(() => {}); // reported below, once
  let glue;
  let defineElementsWith;
  try {
    await verified(["glue", "elements"]);
    // Each by the very URL its link verified: the module map holds them under it. Neither imports anything (the
    // glue reaches the elements from here), so no import can be resolved against a redirected response's URL.
    [glue, { defineElementsWith }] = await Promise.all([import(url("glue")), import(url("elements"))]);
  } catch (error) {
    console.error(PREFIX, "could not load its code:", error);
    return;
  }
  try {
    await defineElementsWith(glue, config, wasm);
  } catch (error) {
    console.error(PREFIX, explain(error));
    return;
  }
  if (launcher.x !== undefined || launcher.y !== undefined) {
    const sheet = new CSSStyleSheet();
    const x = launcher.x ? `--loyalty-offset-x:${launcher.x};` : "";
    const y = launcher.y ? `--loyalty-offset-y:${launcher.y};` : "";
    sheet.replaceSync(`loyalty-launcher{${x}${y}}`);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }
  if (launcher.add && !document.querySelector("loyalty-launcher")) {
    const element = document.createElement("loyalty-launcher");
    if (launcher.position) element.setAttribute("position", launcher.position);
    document.body.append(element);
  }
}

start().catch((error) => console.error(PREFIX, error));
