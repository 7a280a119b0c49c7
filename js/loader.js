// storefront-loyalty's script-tag loader, and the product page's shell. A merchant pastes one tag:
//   <script type="module" src=".../storefront-loyalty.js" data-api-base="https://shop.example/loyalty"
//           data-customer-id="..." data-timestamp="..." data-digest="..." data-locale="zh-CN"></script>
// It checks the browser and its own data-* settings and starts the shell at once: a small wasm (shell/,
// loyalty-core's earning) that reads the program and the shopper's state (the cache first) and says what the
// badges and the launcher's button show. The shell runs in a worker, so that its download, compiling, reading
// and rules cost the page's main thread nothing; where the page's CSP refuses a blob: worker it runs on the page.
// A recommendations list is ranked in the same worker by a wasm of its own (recs/), loaded once the list comes
// near the viewport. The full widget (panel, redemptions: the glue, the elements and the large wasm) loads only
// when it is needed: the launcher is hovered, focused or pressed, a panel is on the page, the list's switch is
// used, or a write waits to be sent.
// Anything wrong ends in one console message and an untouched page: nothing here throws into the shop's scripts.
//
// Every file it brings in is checked against its SRI hash before it runs (the page's integrity attribute covers
// this file, which holds the others' hashes; the shell's worker is made from this file's own text): each wasm by
// fetch's `integrity`, each JavaScript module by a
// <link rel=modulepreload integrity> that puts it into the page's module map only if its bytes match, and only
// once that link has loaded is it imported (import() has no integrity option). No verified module imports
// another (ARCHITECTURE.md). The names and hashes are written by scripts/package.mjs (pkg/) and
// scripts/dist.mjs (dist/); without hashes nothing is checked.
const FILES = {"shellWasm":["./shell_bg.wasm",""],"recsWasm":["./recs.wasm",""],"glue":["./storefront_loyalty.js",""],"elements":["./elements.js",""],"wasm":["./storefront_loyalty_bg.wasm",""]};
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
const TAGS = {
  "loyalty-launcher": "launcher",
  "loyalty-panel": "panel",
  "loyalty-points": "points",
  "loyalty-cart-points": "cart-points",
  "loyalty-recommendations": "recommendations",
};
const OBSERVED = ["product-id", "price", "currency", "quantity", "variant-id", "categories", "tags", "lines", "locale", "cart", "context", "category", "limit", "repurchase"];
// The shell's own stylesheet: the badges and the launcher's button (the panel's arrives with it).
const DARK = "--_accent:var(--loyalty-accent-dark,#f08cbd);--_on-accent:var(--loyalty-on-accent-dark,#26101b);--_skeleton:var(--loyalty-skeleton-dark,#2c2c33)";
const CSS = `:host{--_accent:var(--loyalty-accent,#b4236b);--_on-accent:var(--loyalty-on-accent,#fff);--_skeleton:var(--loyalty-skeleton,#ececf0);font-family:var(--loyalty-font);font-size:15px;line-height:1.45;font-weight:400;box-sizing:border-box}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}:host([theme=dark]){${DARK}}
[hidden]{display:none!important}.sr-only{position:absolute!important;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
:focus-visible{outline:3px solid var(--_accent);outline-offset:2px}
:host(loyalty-launcher){position:fixed!important;z-index:2147483000;inset-block-end:var(--loyalty-offset-y,20px);inset-inline-end:var(--loyalty-offset-x,20px);display:block!important}
:host(loyalty-launcher[position=bottom-left]){inset-inline-end:auto;inset-inline-start:var(--loyalty-offset-x,20px)}
:host(loyalty-launcher[position=top-right]){inset-block-end:auto;inset-block-start:var(--loyalty-offset-y,20px)}
:host(loyalty-launcher[position=top-left]){inset-block-end:auto;inset-block-start:var(--loyalty-offset-y,20px);inset-inline-end:auto;inset-inline-start:var(--loyalty-offset-x,20px)}
.launcher{display:flex;align-items:center;gap:.45em;font-family:inherit;font-size:14px;line-height:1.2;font-weight:600;border-radius:999px;cursor:pointer;border:1px solid var(--_accent);background:var(--_accent);color:var(--_on-accent);box-shadow:0 6px 20px rgb(0 0 0/.22);min-block-size:48px;padding:.7em 1.1em}
.icon{inline-size:20px;block-size:20px;fill:currentColor}
.count{background:var(--_on-accent);color:var(--_accent);border-radius:999px;padding:.1em .55em;font-variant-numeric:tabular-nums}
:host(loyalty-points),:host(loyalty-cart-points){display:inline-block;vertical-align:top;min-block-size:24px;min-inline-size:144px;line-height:24px;font-size:inherit}
.badge{display:inline-block;line-height:24px;color:var(--_accent);font-weight:600}
.badge[data-loading]{inline-size:144px;block-size:24px;vertical-align:top;background:var(--_skeleton);border-radius:6px}
@media (prefers-reduced-motion:no-preference){.badge[data-loading]{animation:pulse 1.2s ease-in-out infinite alternate}}
@keyframes pulse{to{opacity:.55}}`;
// A recommendations list's own rules (the panel's stylesheet has its own), adopted only where a list is. Its text
// is the page's: its size and family inherited, one weight for emphasis. Each size and weight of a family is a
// font the browser must find while laying the list out (a round trip to its font service per strike, measured
// about 1 ms each here), so the list adds none the page does not already use, or one.
const LIST_DARK = "--_fg:var(--loyalty-text-dark,#f1f1f4);--_muted:var(--loyalty-muted-dark,#b5b5bf)";
const LIST_CSS = `:host(loyalty-recommendations){display:block;font-size:inherit;--_fg:var(--loyalty-text,#1f1f24);--_muted:var(--loyalty-muted,#5d5d66);color:var(--_fg)}
@media (prefers-color-scheme:dark){:host(loyalty-recommendations:not([theme=light])){${LIST_DARK}}}:host(loyalty-recommendations[theme=dark]){${LIST_DARK}}
*,*::before,*::after{box-sizing:inherit}p{margin:4px 0}ul{list-style:none;margin:0;padding:0}
.title{font:inherit;font-weight:600;margin:0 0 10px;min-block-size:1.45em}
.rec-list{display:grid;grid-template-columns:repeat(auto-fill,minmax(148px,1fr));gap:14px}
.rec-item,.rec-skeleton{min-block-size:232px}.rec-skeleton{background:var(--_skeleton);border-radius:8px}
.rec-link{display:flex;flex-direction:column;gap:3px;color:inherit;text-decoration:none;border-radius:8px}
.rec-image{inline-size:96px;block-size:96px;object-fit:cover;border-radius:8px;background:var(--_skeleton);display:block}
.rec-title,.rec-points{font-weight:600}.rec-price,.rec-reason,.note,.empty{color:var(--_muted)}.rec-points{color:var(--_accent)}
.rec-reason{margin:4px 0 0}
.rec-switch{margin-block-start:14px;min-block-size:4.5em}.rec-switch label{display:inline-flex;gap:8px;align-items:center;min-block-size:36px;cursor:pointer}
input[type=checkbox]{inline-size:20px;block-size:20px;margin:0;accent-color:var(--_accent)}`;
const STAR = "M12 2l2.9 6.3 6.9.7-5.2 4.6 1.5 6.8L12 17l-6.1 3.4 1.5-6.8L2.2 9l6.9-.7z";

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

// Reads the tag: the settings as written (for the shell's check), the full widget's config, and the launcher's
// options; or a problem text.
function settings(tag) {
  const data = (name) => {
    const value = tag.getAttribute(name);
    return value === null || value.trim() === "" ? undefined : value.trim();
  };
  const raw = {};
  for (const [key, attribute] of Object.entries(ATTRIBUTES)) raw[key] = data(attribute);
  if (!raw.apiBase) return `${ATTRIBUTES.apiBase} is required (the base URL of the loyalty API)`;
  // A path on the shop's own site ("/loyalty") is resolved against the page.
  if (raw.apiBase.startsWith("/") && !raw.apiBase.startsWith("//")) raw.apiBase = new URL(raw.apiBase, location.origin).href;
  const id = { customerId: raw.customerId, timestamp: raw.timestamp, digest: raw.digest };
  const given = Object.entries(id).filter(([, v]) => v !== undefined);
  if (given.length > 0 && given.length < 3) {
    const missing = Object.keys(id).filter((k) => id[k] === undefined).map((k) => ATTRIBUTES[k]);
    return `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing: a signed-in shopper needs data-customer-id, data-timestamp and data-digest`;
  }
  const config = { apiBase: raw.apiBase };
  if (given.length === 3) config.identity = { ...id, timestamp: Number(id.timestamp) };
  for (const key of ["locale", "currency", "signInUrl", "joinUrl", "cacheKey"]) if (raw[key] !== undefined) config[key] = raw[key];
  for (const key of ["timeoutMs", "catalogLimit", "historyHalfLifeDays"]) if (raw[key] !== undefined) config[key] = Number(raw[key]);
  for (const key of ["requireConsent", "codesInEvents"]) if (raw[key] !== undefined) config[key] = raw[key] === "true";
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
  return [raw, config, launcher];
}

// A file's URL, resolved against this module's.
const url = (name) => new URL(FILES[name][0], import.meta.url).href;
const wasmOf = (name) =>
  fetch(url(name), FILES[name][1] ? { integrity: FILES[name][1] } : {}).catch(() => {
    throw new Error(`${url(name)} does not match its integrity hash (or could not be fetched); it was not run`);
  });

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

// Problems as "setting\tmessage" lines (the shell's) or a LoyaltyError's, named by the attributes they came from.
function explain(problems) {
  return problems
    .map(({ path, message }) => {
      const key = String(path).split(/[.[]/).filter((p) => p !== "identity")[0];
      return `${ATTRIBUTES[key] ?? path} ${message}`;
    })
    .join("; ");
}
const lines = (text) => text.split("\n").filter(Boolean).map((line) => ({ path: line.split("\t")[0], message: line.split("\t")[1] }));

// The contract's shopper credentials: `LoyaltyShopper <base64url(id)>.<timestamp>.<digest>`.
function authorization({ customerId, timestamp, digest }) {
  const id = btoa(String.fromCharCode(...new TextEncoder().encode(customerId))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `LoyaltyShopper ${id}.${timestamp}.${digest}`;
}

// JSON text of plain data, written here: a page's own `toJSON` (Prototype.js puts one on Array.prototype) cannot
// change what the shell reads, as it would through JSON.stringify. Functions and undefined are left out.
function json(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${Array.from(value, json).join(",")}]`;
  const members = Object.keys(value).filter((k) => value[k] !== undefined && typeof value[k] !== "function");
  return `{${members.map((k) => `${JSON.stringify(k)}:${json(value[k])}`).join(",")}}`;
}

// The shell's host: the shell's wasm and the API's reads, run in a worker (off the page's main thread) or, where
// no worker can start, on the page through a MessageChannel; the same code either way. It is self-contained (no
// name from outside itself), because its source text, after the glue's, is the worker's script: covered by this
// file's integrity, as the glue is. It answers messages in order; each answer carries the shell's snapshot
// (currency, balance, tier) and a version that changes whenever the program or the shopper does.
function shellHost(glue, port) {
  // The most an answer may weigh, in bytes (the full client's default `maxResponseBytes`).
  const LIMIT = 2_000_000;
  // One read of the API: the answer's text and entity tag, `null` for 304, or a failure ("offline",
  // "unauthorized", "error"). Within the client's timeout and response limit; never throws.
  async function read(url, headers, timeoutMs, init = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(url, { ...init, headers: { accept: "application/json", ...headers }, signal: controller.signal });
      if (response.status === 304) return null;
      if (!response.ok) return { failed: response.status === 401 ? "unauthorized" : "error" };
      if (!/json/i.test(response.headers.get("content-type") ?? "")) return { failed: "error" };
      // As the full client reads an answer: at most LIMIT bytes (refused by its length, or while it streams, the
      // request aborted), and UTF-8 only.
      if (Number(response.headers.get("content-length")) > LIMIT) return controller.abort(), { failed: "error" };
      const reader = response.body.getReader();
      const chunks = [];
      let size = 0;
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        size += part.value.length;
        if (size > LIMIT) return controller.abort(), { failed: "error" };
        chunks.push(part.value);
      }
      const bytes = new Uint8Array(size);
      chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), etag: response.headers.get("etag") };
    } catch {
      return { failed: "offline" };
    } finally {
      clearTimeout(timer);
    }
  }
  let version = 0;
  let started = null;
  // Once the page's full client tells the shell its program (or its shopper), the shell's own read of it (older)
  // is not applied.
  const told = { program: false, shopper: false };
  const post = (message) => {
    port.postMessage({ ...message, version, currency: glue.currency(), available: glue.available(), tierId: glue.tierId() ?? null });
  };
  const changed = (ok) => (version++, ok);
  // What the shell was told last, as text: the list's module reads the same program and shopper.
  const held = { program: "", shopper: "", id: "" };
  const holdProgram = (text) => ((held.program = glue.program(text) ? text : ""), changed(held.program !== ""));
  const holdShopper = (text, id) => {
    const ok = glue.shopper(text, id);
    Object.assign(held, { shopper: ok ? text : "", id });
    return changed(ok);
  };
  async function start(m) {
    const program = m.absolute ? read(`${m.base}/v1/program`, m.etag ? { "if-none-match": m.etag } : {}, m.timeout) : new Promise(() => {});
    const shopper = m.auth ? read(`${m.base}/v1/customers/me`, { authorization: m.auth }, m.timeout) : null;
    const [url, integrity] = m.wasm;
    const wasm = fetch(url, integrity ? { integrity } : {}).catch(() => {
      throw new Error(`${url} does not match its integrity hash (or could not be fetched); it was not run`);
    });
    try {
      await glue({ module_or_path: wasm });
    } catch (error) {
      port.postMessage({ op: "failed", error: String(error?.message ?? error) });
      return false;
    }
    const problems = glue.settings(m.settings);
    if (problems) {
      port.postMessage({ op: "problems", problems });
      return false;
    }
    const fromCache = Boolean(m.cachedProgram && holdProgram(m.cachedProgram));
    const cachedShopper = Boolean(m.cachedShopper && holdShopper(m.cachedShopper, m.id));
    post({ op: "ready", fromCache, cachedShopper });
    const failed = (during) => (error) => port.postMessage({ op: "failed", during, error: String(error?.message ?? error) });
    program.then(async (answer) => {
      // 304 for a cached copy that did not read after all: ask again, for the whole program.
      if (answer === null && !glue.currency()) answer = await read(`${m.base}/v1/program`, {}, m.timeout);
      const ok = !told.program && typeof answer?.text === "string" ? holdProgram(answer.text) : null;
      post({ op: "program", answer, ok });
    }).catch(failed("program"));
    shopper?.then((answer) => {
      const ok = !told.shopper && typeof answer?.text === "string" ? holdShopper(answer.text, m.id) : null;
      post({ op: "shopper", answer, ok });
    }).catch(failed("shopper"));
    return true;
  }
  // The recommendations list's module (recs/: no glue, one text in and one out) and the catalog it indexed,
  // fetched once each: the catalog again only when the page's products change. A product's points are the
  // shell's (the module's one import), so a list says what the badges say.
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let recs = null;
  let catalog = null;
  let listing = Promise.resolve();
  let pointsAt = 0;
  const send = (exports, name, text) => {
    const bytes = encoder.encode(text);
    const at = exports.input(bytes.length);
    new Uint8Array(exports.memory.buffer, at, bytes.length).set(bytes);
    return exports[name]();
  };
  async function module([url, integrity]) {
    let exports = null;
    const response = await fetch(url, integrity ? { integrity } : {}).catch(() => {
      throw new Error(`${url} does not match its integrity hash (or could not be fetched); it was not run`);
    });
    if (!response.ok) throw new Error(`${url} could not be fetched (HTTP ${response.status})`);
    const points = (at, length) => glue.offerPoints(decoder.decode(new Uint8Array(exports.memory.buffer, at, length)), pointsAt);
    ({ exports } = (await WebAssembly.instantiate(await response.arrayBuffer(), { host: { points } })).instance);
    return exports;
  }
  async function listOf(m) {
    if (!held.program) return null;
    const exports = await (recs ??= module(m.wasm).catch((error) => {
      recs = null;
      throw error;
    }));
    if (catalog?.url !== m.catalog) {
      // Public and the same for everyone: no cookies, and no Referer naming the page the shopper is on.
      const ready = read(m.catalog, {}, m.timeout, { credentials: "omit", referrerPolicy: "no-referrer" }).then((answer) => {
        if (typeof answer?.text !== "string") throw new Error(`the catalog could not be read (${answer?.failed ?? "not modified"})`);
        if (send(exports, "catalog", answer.text) !== 1) throw new Error("the catalog is not in the columns format the contract gives");
      });
      catalog = { url: m.catalog, ready };
    }
    const asked = catalog;
    await asked.ready.catch((error) => {
      if (catalog === asked) catalog = null;
      throw error;
    });
    pointsAt = m.now;
    const question = [held.program, held.shopper, held.id, m.history, m.preferences, m.requireConsent ? "1" : "", m.context, m.productId, m.cart, m.category, m.limit, m.repurchase ? "1" : "", m.tag, m.now, m.halfLife];
    const length = send(exports, "list", question.join("\0"));
    // A program the shell accepts but whose tiers or rewards do not read: the full widget says what is wrong.
    if (!length) throw new Error("the program's tiers or rewards could not be read for the list");
    return decoder.decode(new Uint8Array(exports.memory.buffer, exports.output(), length));
  }
  const ops = {
    start: (m) => (started = start(m)),
    badge: (m) => {
      const text = glue.badge(m.input, m.tag, m.currency, m.now);
      post({ op: "badge", key: m.key, text: text ?? null, points: glue.points(), minimum: glue.minimum(), problems: text === undefined ? glue.problems() : "" });
    },
    launcher: (m) => post({ op: "launcher", key: m.key, text: glue.launcher(m.key) }),
    program: (m) => ((told.program = true), holdProgram(m.text), post({ op: "state" })),
    shopper: (m) => ((told.shopper = true), holdShopper(m.text, m.id), post({ op: "state" })),
    // A recommendations list, one at a time (the module holds one catalog): its texts, or null while there is
    // no program; `failed` when the module or the catalog could not be had.
    list: (m) => {
      listing = listing.then(() => listOf(m)).then(
        (text) => post({ op: "list", key: m.key, text }),
        (error) => post({ op: "list", key: m.key, text: null, failed: String(error?.message ?? error) }),
      );
    },
    // The switch under a list, where the full client is not running: the choices to save.
    personalise: (m) => port.postMessage({ op: "personalise", text: glue.personalise(m.preferences, m.on) }),
    // Visits ([product, when, seconds]), in order, into the saved history; empty when the shopper's choices keep
    // none.
    visit: (m) => {
      let text = m.history;
      for (const [productId, at, dwell] of m.events) {
        text = glue.visit(text, m.preferences, m.requireConsent, productId, at, m.now, dwell);
        if (!text) break;
      }
      port.postMessage({ op: "visit", text, left: m.left, arrival: m.arrival });
    },
  };
  let queue = Promise.resolve();
  port.onmessage = ({ data }) => {
    queue = queue.then(async () => {
      if (data.op !== "start" && !(await started)) return;
      ops[data.op]?.(data);
    }).catch((error) => port.postMessage({ op: "failed", during: data.op, key: data.key, error: String(error?.message ?? error) }));
  };
  // Running: the page stops waiting for a worker that never starts.
  port.postMessage({ op: "hello" });
}

// The host in a worker, from a blob: URL (the page's CSP must allow `worker-src blob:`). Where that is refused, or
// the worker has not said hello within 3 s, the host runs on this page instead and what was sent is sent to it;
// a refusal is remembered for a day (`no-worker`), so a shop's CSP reports get one per device, not one per page.
// Messages from the host go to `receive`; what it returns sends one.
function connect(receive) {
  const sent = [];
  let target = null;
  let worker = null;
  let replay = true; // until the worker's hello, or the host on the page has had what was sent
  const local = (refused) => {
    if (worker) worker.onmessage = worker.onerror = null;
    worker?.terminate();
    worker = null;
    if (refused) cache.set("no-worker", String(Date.now()));
    try {
      const { port1, port2 } = new MessageChannel();
      shellHost(shellGlue(), port2);
      port1.onmessage = ({ data }) => receive(data);
      target = port1;
      for (const message of sent.splice(0)) port1.postMessage(message);
      replay = false;
    } catch (error) {
      receive({ op: "failed", error: String(error?.message ?? error) });
    }
  };
  const refused = Number(cache.get("no-worker"));
  try {
    if (refused > Date.now() - 86_400_000) throw new Error("refused before");
    const url = URL.createObjectURL(new Blob([`"use strict";(${shellHost})((${shellGlue})(),self);`], { type: "text/javascript" }));
    const created = new Worker(url, { name: "storefront-loyalty" });
    worker = target = created;
    const late = setTimeout(() => local(false), 3000);
    created.onmessage = ({ data }) => {
      if (replay) (replay = false), clearTimeout(late), sent.splice(0), URL.revokeObjectURL(url);
      receive(data);
    };
    created.onerror = (event) => {
      if (!replay) return;
      event.preventDefault();
      clearTimeout(late);
      URL.revokeObjectURL(url);
      local(true);
    };
  } catch {
    local(false);
  }
  return (message) => {
    if (replay) sent.push(message);
    target?.postMessage(message);
  };
}

// The page: the settings, what is shown, and the full widget once it runs.
const page = { live: new Set(), status: "loading", full: null, client: null, visits: [], left: [], visiting: false, failures: new Set() };

// What the shell's host said last: its snapshot, and the texts it computed, by what was asked (all asked again
// when the version changes). An element asks for what it lacks and draws again when the answer comes.
const shell = { post: null, version: -1, currency: "", available: NaN, tierId: null, texts: new Map(), sent: {} };
function ask(op, key, message) {
  const id = `${op}\u0000${key}`;
  let entry = shell.texts.get(id);
  if (!entry) {
    // Kept for what the page shows: a page that asks for ever more (a price stepper) starts over.
    if (shell.texts.size >= 256) shell.texts = new Map();
    let resolve;
    entry = { value: undefined, done: new Promise((r) => (resolve = r)) };
    entry.resolve = resolve;
    shell.texts.set(id, entry);
    shell.post({ op, key, ...message });
  }
  return entry;
}

// localStorage under the client's own keys (src/storage.rs), so the full widget starts from what the shell read.
const cache = {
  get: (name) => {
    try {
      return localStorage.getItem(page.prefix + name);
    } catch {
      return null;
    }
  },
  set: (name, value) => {
    try {
      localStorage.setItem(page.prefix + name, value);
    } catch {
      // Full or blocked: this page keeps what it has.
    }
  },
  remove: (name) => {
    try {
      localStorage.removeItem(page.prefix + name);
    } catch {
      // Blocked: nothing to remove.
    }
  },
  // The names (after the prefix) of this shop's entries that start with `start`.
  names: (start) => {
    try {
      return Object.keys(localStorage).filter((k) => k.startsWith(page.prefix + start)).map((k) => k.slice(page.prefix.length));
    } catch {
      return [];
    }
  },
};

const pageLocale = () => page.config.locale ?? (document.documentElement.lang || navigator.language);
const locale = (element) => element.getAttribute("locale") ?? pageLocale();
const kindOf = (element) => {
  const kind = TAGS[element.localName];
  return kind === "points" && element.hasAttribute("cart") ? "cart-points" : kind;
};

// A badge's question to the shell: its attributes (and a cart given as a property), or for a product badge
// without them the page's JSON-LD product; asked in the element's locale.
function askBadge(element, cart) {
  const input = { cart: kindOf(element) === "cart-points" };
  for (const [key, name] of [["productId", "product-id"], ["price", "price"], ["currency", "currency"], ["quantity", "quantity"], ["variantId", "variant-id"], ["categories", "categories"], ["tags", "tags"], ["lines", "lines"]]) {
    const value = element.getAttribute(name);
    if (value !== null) input[key] = value;
  }
  if (cart) {
    input.lines = json(cart.lines ?? []);
    if (cart.currency) input.currency = cart.currency;
  }
  if (!input.cart && input.productId === undefined && input.price === undefined) input.jsonLd = jsonLd();
  const tag = locale(element);
  const currency = page.config.currency ?? "";
  const text = json(input);
  // Asked again each minute, for campaigns that start or end while the page is open.
  const now = Math.floor(Date.now() / 1000);
  return [input, tag, ask("badge", `${tag}\u0000${currency}\u0000${Math.floor(now / 60)}\u0000${text}`, { input: text, tag, currency, now })];
}

// A recommendations list's question to the shell's worker: its attributes as written, the shopper's history and
// choices as this device keeps them (handed to the worker, never sent anywhere), the catalog near the page's
// products; asked again each minute, as badges are, and whenever the choices change.
function askList(element) {
  const attr = (name) => element.getAttribute(name)?.trim() ?? "";
  const m = { context: attr("context"), productId: attr("product-id"), cart: attr("cart"), category: attr("category"), limit: attr("limit"), repurchase: element.hasAttribute("repurchase") };
  const tag = locale(element);
  const preferences = cache.get("preferences") ?? "";
  // The products of every list on the page (at most the 50 the contract takes), so that the lists share one
  // catalog; an id that cannot be encoded (a lone surrogate) is left out.
  const ids = new Set();
  for (const list of document.querySelectorAll("loyalty-recommendations")) {
    for (const id of [list.getAttribute("product-id") ?? "", ...(list.getAttribute("cart") ?? "").split(",")]) if (id.trim()) ids.add(id.trim());
  }
  const encoded = (id) => {
    try {
      return encodeURIComponent(id);
    } catch {
      return "";
    }
  };
  const near = [...ids].sort().slice(0, 50).map(encoded).filter(Boolean).join(",");
  const limit = page.config.catalogLimit ?? 2000;
  const now = Math.floor(Date.now() / 1000);
  const key = `${json(m)}\u0000${tag}\u0000${preferences}\u0000${Math.floor(now / 60)}`;
  return ask("list", key, {
    ...m,
    tag,
    preferences,
    history: cache.get("history") ?? "",
    requireConsent: page.config.requireConsent === true,
    halfLife: Math.round((page.config.historyHalfLifeDays ?? 0) * 86_400) || 0,
    now,
    catalog: `${page.base}/v1/catalog?limit=${limit}&format=columns${near ? `&near=${near}` : ""}`,
    wasm: [url("recsWasm"), FILES.recsWasm[1]],
    timeout: page.timeout,
  });
}

// An element of the list, with its class and `part` (the shop's ::part() styles) and its text.
function el(name, part, text) {
  const element = document.createElement(name);
  if (part) element.className = element.part = part;
  if (text !== undefined) element.textContent = text;
  return element;
}

// The first schema.org Product in the page's JSON-LD: its id, the first offer's price and currency, as written.
function jsonLd() {
  const text = (v) => (typeof v === "string" || typeof v === "number" ? String(v) : undefined);
  const find = (node) => {
    if (Array.isArray(node)) return node.map(find).find(Boolean);
    if (!node || typeof node !== "object") return undefined;
    const inGraph = node["@graph"] && find(node["@graph"]);
    if (inGraph) return inGraph;
    const type = node["@type"];
    if (!(type === "Product" || (Array.isArray(type) && type.includes("Product")))) return undefined;
    const offer = Array.isArray(node.offers) ? node.offers[0] : node.offers;
    return { id: text(node.productID) ?? text(node.sku), price: text(offer?.price) ?? text(offer?.lowPrice), currency: text(offer?.priceCurrency) };
  };
  for (const script of document.querySelectorAll("script[type='application/ld+json']")) {
    try {
      const found = find(JSON.parse(script.textContent));
      if (found) return found;
    } catch {
      // Not JSON: the next one.
    }
  }
  return undefined;
}

// Money as Intl writes it in the page's language, or in the widget's own locale when Intl refuses the page's tag
// (`lang="en_US"` is a common mistake): the texts fall back the same way (shell/src/texts.rs).
function formatMoney(tag, currency, amount) {
  const style = { style: "currency", currency };
  try {
    return new Intl.NumberFormat(tag, style).format(amount);
  } catch {
    return new Intl.NumberFormat(/^zh/i.test(tag) ? "zh-CN" : "en", style).format(amount);
  }
}

function emit(element, name, detail) {
  element.dispatchEvent(new CustomEvent(`loyalty:${name}`, { bubbles: true, composed: true, detail }));
}

function detail() {
  const points = shell.available;
  return { status: page.status, signedIn: Boolean(page.config.identity), points: Number.isNaN(points) ? null : points, tierId: shell.tierId ?? null };
}

class LoyaltyElement extends HTMLElement {
  static observedAttributes = OBSERVED;
  #widget = null; // the full widget's, once it runs this element
  #body = null; // the shell's badge or button
  #cart = null;
  #reported = null;
  #ready = false;
  #waiting = null; // the shell's answer this element waits for
  #near = false; // a list within a viewport of being seen
  #shown = null; // the list's text as drawn

  get #kind() {
    return kindOf(this);
  }

  get #badge() {
    return this.#kind === "points" || this.#kind === "cart-points";
  }

  connectedCallback() {
    page.live.add(this);
    // A `cart` the page set before the element was defined is an own property hiding the setter: take it.
    if (Object.hasOwn(this, "cart")) {
      const cart = this.cart;
      delete this.cart;
      this.#cart = cart ?? null;
    }
    if (this.#widget || this.#body) return;
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    if (this.#badge) {
      root.adoptedStyleSheets = [page.sheet];
      this.#body = document.createElement("span");
      this.#body.className = "badge";
      this.#body.part = "badge";
      root.replaceChildren(this.#body);
      this.render();
    } else if (this.#kind === "launcher" && !page.full) {
      root.adoptedStyleSheets = [page.sheet];
      this.#body = this.#button();
      root.replaceChildren(this.#body);
      this.render();
    } else if (this.#kind === "recommendations" && !page.full) {
      // Ranked in the shell's worker once the list comes within a viewport of being seen; until then (and until
      // it is ranked) placeholders of its size, so nothing moves when it comes.
      if (!page.listSheet) (page.listSheet = new CSSStyleSheet()).replaceSync(LIST_CSS);
      root.adoptedStyleSheets = [page.sheet, page.listSheet];
      this.#body = el("section", "recommendations");
      this.#body.setAttribute("aria-labelledby", "recommendations-title");
      root.replaceChildren(this.#body);
      this.#placeholders();
      // A list on a product page records its visit, as the list's module reads the context.
      const productId = this.getAttribute("product-id")?.trim();
      if (productId && !["cart", "home"].includes(this.getAttribute("context")?.trim())) visited(productId);
      const watch = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          watch.disconnect();
          this.#near = true;
          this.render();
        }
      }, { rootMargin: "100% 0px" });
      watch.observe(this);
    } else {
      full().then(() => this.#take(), () => {});
    }
  }

  disconnectedCallback() {
    page.live.delete(this);
    // A framework that moves the element disconnects and reconnects it in one task: keep the widget.
    queueMicrotask(() => {
      if (!this.isConnected && this.#widget) {
        this.#widget.destroy();
        this.#widget.free();
        this.#widget = null;
      }
    });
  }

  attributeChangedCallback() {
    this.#reported = null;
    if (this.#widget) this.#widget.attributeChanged();
    else if (this.#body) this.render();
  }

  #button() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "launcher";
    button.part = "launcher";
    button.setAttribute("aria-haspopup", "dialog");
    button.setAttribute("aria-expanded", "false");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", STAR);
    svg.append(path);
    const name = document.createElement("span");
    name.className = "name";
    const count = document.createElement("span");
    count.part = "count";
    count.className = "count";
    button.append(svg, name, count);
    // Intent fetches the panel; the click opens it once it is there.
    for (const event of ["pointerenter", "focus", "pointerdown"]) button.addEventListener(event, () => full().catch(() => {}), { once: true });
    button.addEventListener("click", () => this.open());
    return button;
  }

  // Draws what the shell says; whatever goes wrong is said once in the console, never thrown into the page.
  render() {
    try {
      this.#draw();
    } catch (error) {
      if (this.#reported !== String(error)) {
        this.#reported = String(error);
        console.error(`${PREFIX} <${this.localName}>`, error);
      }
    }
  }

  // Draws again once the shell has answered (what is shown stays until then).
  #wait(entry) {
    if (this.#waiting === entry) return;
    this.#waiting = entry;
    entry.done.then(() => this.#waiting === entry && this.render());
  }

  // Draws what the shell says, from the program and shopper it holds.
  #draw() {
    if (!shell.post || !this.#body) return;
    if (this.#kind === "launcher") {
      const entry = ask("launcher", locale(this), {});
      if (entry.value === undefined) return this.#wait(entry);
      if (entry.value.text === null) return;
      const [name, shown, unit] = entry.value.text.split("\u0001");
      const [, label, count] = this.#body.children;
      label.textContent = name;
      count.hidden = shown === undefined;
      if (shown !== undefined) {
        const number = document.createElement("span");
        number.textContent = shown;
        const spoken = document.createElement("span");
        spoken.className = "sr-only";
        spoken.textContent = unit;
        count.replaceChildren(number, spoken);
      }
      return this.#announce();
    }
    if (this.#kind === "recommendations") return this.#drawList();
    if (!shell.currency) {
      this.#body.setAttribute("data-loading", "");
      this.#body.setAttribute("aria-busy", "true");
      return;
    }
    const [input, tag, entry] = askBadge(this, this.#cart);
    if (entry.value === undefined) {
      if (!this.hasAttribute("data-points")) this.#body.setAttribute("data-loading", ""), this.#body.setAttribute("aria-busy", "true");
      return this.#wait(entry);
    }
    this.#body.removeAttribute("data-loading");
    this.#body.removeAttribute("aria-busy");
    const { text, points, minimum, problems, currency } = entry.value;
    if (text === null) {
      // Nothing wrong is shown to the shopper; the merchant hears it once in the console.
      this.#body.textContent = "";
      this.#body.hidden = true;
      this.removeAttribute("data-points");
      if (this.#reported !== problems) {
        this.#reported = problems;
        console.error(`${PREFIX} <${this.localName}>`, problems);
      }
    } else {
      // Intl only when the sentence holds the minimum order: a page's first NumberFormat costs milliseconds.
      const money = text.includes("\u0001") ? formatMoney(tag, currency, minimum) : "";
      this.#body.hidden = false;
      this.#body.textContent = text.replace("\u0001", money);
      this.setAttribute("data-points", String(Number.isNaN(points) ? 0 : points));
      // A badge that found its product in the page's JSON-LD is on that product's page: the visit goes into
      // the device's history for recommendations (never sent anywhere), its time on the page when it is left.
      if (input.jsonLd?.id) visited(input.jsonLd.id);
    }
    this.#announce();
  }

  // Placeholders of the list's size: a heading's line, the products' boxes, the switch's line.
  #placeholders() {
    // As the list's module reads `limit` (a whole number, else 4; then 1 to 12), so nothing moves when it comes.
    const given = (this.getAttribute("limit") ?? "").trim();
    const limit = /^\+?\d{1,9}$/.test(given) ? Math.min(Math.max(Number(given), 1), 12) : 4;
    const list = el("ul", "rec-list");
    for (let i = 0; i < limit; i++) {
      const block = el("li", "rec-skeleton");
      block.setAttribute("aria-hidden", "true");
      list.append(block);
    }
    this.#body.setAttribute("aria-busy", "true");
    // Boxes without text: a placeholder costs the page no font lookups.
    this.#body.replaceChildren(el("div", "title"), list, el("div", "rec-switch"));
    this.#shown = null;
  }

  // Draws the list the worker ranked (its texts, put in as text): the heading, each product's link with its
  // image, title, price, points and why, or the sentence for an empty list; then the personalisation switch.
  #drawList() {
    if (!this.#near || !shell.currency) return;
    const entry = askList(this);
    if (entry.value === undefined) return this.#wait(entry);
    const { text, failed } = entry.value;
    if (failed) {
      // The module or the catalog could not be had: the full widget ranks it (and says what failed).
      if (this.#reported !== failed) (this.#reported = failed), console.error(`${PREFIX} <${this.localName}>`, failed);
      return full().then(() => this.#take(), () => {});
    }
    if (text === null || text === this.#shown) return;
    this.#shown = text;
    const [head, ...items] = text.split("\u0000");
    const [heading, empty, label, note, on] = head.split("\u0001");
    const title = el("h2", "title", heading);
    title.id = "recommendations-title";
    const content = [title];
    if (items.length === 0) content.push(el("p", "empty", empty));
    else {
      const list = el("ul", "rec-list");
      list.setAttribute("role", "list");
      items.forEach((item, position) => {
        const [productId, href, image, name, price, points, why, kinds] = item.split("\u0001");
        const link = el("a", "rec-link");
        link.setAttribute("href", href);
        let picture = el("span", "rec-image");
        if (image) {
          picture = el("img", "rec-image");
          for (const [key, value] of [["src", image], ["alt", ""], ["loading", "lazy"], ["decoding", "async"], ["width", "96"], ["height", "96"]]) picture.setAttribute(key, value);
        } else picture.setAttribute("aria-hidden", "true");
        link.append(picture, el("span", "rec-title", name), el("span", "rec-price", price));
        if (points) link.append(el("span", "rec-points", points));
        // The link opens the product by itself; the page hears which one, where it was and why.
        link.addEventListener("click", () => emit(this, "recommendation-click", { productId, url: href, position, reasons: kinds ? kinds.split(",") : [] }));
        const li = el("li", "rec-item");
        li.append(link, el("p", "rec-reason", why));
        list.append(li);
      });
      content.push(list);
    }
    const input = document.createElement("input");
    input.type = "checkbox";
    input.setAttribute("role", "switch");
    input.setAttribute("aria-describedby", "personalised-note");
    input.checked = on === "1";
    // Kept by the full client where it runs (it holds the choice too), else by the shell; the lists rank again.
    input.addEventListener("change", () => {
      if (page.client) {
        page.client.setPersonalised(input.checked);
        for (const element of page.live) element.render();
      } else shell.post({ op: "personalise", preferences: cache.get("preferences") ?? "", on: input.checked });
    });
    const label_ = el("label");
    label_.append(input, el("span", undefined, label));
    const explained = el("p", "note", note);
    explained.id = "personalised-note";
    const toggle = el("div", "rec-switch");
    toggle.append(label_, explained);
    content.push(toggle);
    this.#body.removeAttribute("aria-busy");
    this.#body.replaceChildren(...content);
    this.#announce();
  }

  #announce() {
    if (!shell.currency) return;
    emit(this, this.#ready ? "change" : "ready", detail());
    this.#ready = true;
  }

  // The full widget runs this element from now on (badges stay with the shell, fed by the full client).
  #take() {
    if (this.#widget || !this.isConnected || this.#badge) return;
    const root = this.shadowRoot;
    const focused = root.activeElement !== null;
    root.adoptedStyleSheets = [page.full.sheet];
    this.#body = null;
    try {
      this.#widget = new page.full.glue.Widget(this.#kind, this, root, page.client, page.full.settings);
      if (focused) root.querySelector("button")?.focus();
    } catch (error) {
      console.error(`${PREFIX} <${this.localName}> could not start:`, error);
    }
  }

  get client() {
    return page.client;
  }

  get cart() {
    return this.#cart;
  }

  set cart(cart) {
    this.#cart = cart ?? null;
    this.#reported = null;
    this.render();
  }

  open() {
    if (this.#widget) return this.#widget.open();
    full().then(() => {
      this.#take();
      this.#widget?.open();
    }, (error) => console.error(PREFIX, "could not load the panel:", error));
  }

  close() {
    this.#widget?.close();
  }
}

// The product page's visit, once, into the history the full widget ranks with (shell/src/history.rs). The time
// spent on the page is known only as it is left, too late to ask the shell: when the history kept the visit, it
// is kept as it is (a "visit:<when>:<product>" entry: product, when, seconds) and added by the next page the
// shell runs on. Nothing is kept when the shopper's choices say no.
function visited(productId) {
  if (page.visit) return;
  const since = Math.floor(Date.now() / 1000);
  page.visit = productId;
  record([[productId, since, 0]], [], true);
  const choices = cache.get("preferences");
  addEventListener("pagehide", () => {
    const now = Math.floor(Date.now() / 1000);
    // Not when the shopper's choices changed meanwhile (the switch turned off, consent refused).
    if (page.kept && cache.get("preferences") === choices) cache.set(`visit:${now}:${productId}`, `${productId}\n${now}\n${now - since}`);
  }, { once: true });
}

// Sends the visits waiting ([product, when, seconds]), one message at a time, as each answer is the history the
// next one reads; `left` names the "visit:" entries among them (removed once the history holds them), `arrival`
// says this page's own visit is.
function record(events, left = [], arrival = false) {
  page.visits.push(...events);
  page.left.push(...left);
  page.arrival ||= arrival;
  if (page.visiting || (page.visits.length === 0 && page.left.length === 0)) return;
  page.visiting = true;
  shell.post({
    op: "visit",
    history: cache.get("history") ?? "",
    preferences: cache.get("preferences") ?? "",
    requireConsent: page.config.requireConsent === true,
    now: Math.floor(Date.now() / 1000),
    events: page.visits.splice(0),
    left: page.left.splice(0),
    arrival: page.arrival,
  });
  page.arrival = false;
}

// Loads the full widget once: verified glue and elements, the large wasm, the page's client (from the cache the
// shell wrote); then the shell's badges follow that client.
let loading = null;
function full() {
  loading ??= (async () => {
    await verified(["glue", "elements"]);
    const [glue, elements] = await Promise.all([import(url("glue")), import(url("elements"))]);
    page.full = await elements.startWith(glue, page.config, wasmOf("wasm"));
    page.client = page.full.client;
    // The shell computes with what the client holds (told only what changed); the badges draw again as it
    // answers.
    const follow = () => {
      const state = page.client.state();
      const program = state.program ? json(state.program) : null;
      const [text, id] = [state.shopper ? json(state.shopper) : "", state.customerId ?? ""];
      let told = false;
      if (program !== null && program !== shell.sent.program) shell.post({ op: "program", text: (shell.sent.program = program) }), (told = true);
      if (`${id}\n${text}` !== shell.sent.shopper) shell.post({ op: "shopper", text, id }), (shell.sent.shopper = `${id}\n${text}`), (told = true);
      page.status = state.status;
      // What was told comes back with a new version, and the elements draw again then, with its numbers.
      if (!told) for (const element of page.live) element.render();
    };
    page.client.subscribe(follow);
    follow();
  })();
  loading.catch((error) => {
    // Said once per failure; the next need (a click, the list coming near) tries again.
    console.error(PREFIX, "could not load its code:", error);
    loading = null;
  });
  return loading;
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
  if (typeof tag === "string") return console.error(PREFIX, tag);
  const read_ = settings(tag);
  if (typeof read_ === "string") return console.error(PREFIX, read_);
  const [raw, config, launcher] = read_;
  page.config = config;
  const base = raw.apiBase.replace(/\/+$/, "");
  page.base = base;
  page.timeout = Number(raw.timeoutMs) || 10_000;
  page.prefix = `storefront-loyalty:1:${raw.cacheKey ?? base}:`;
  const [etag, cachedProgram] = (cache.get("program") ?? "\n").split(/\n(.*)/s);
  const id = config.identity?.customerId ?? "";
  // Only to an absolute http(s) base: a relative one would resolve against the document's <base>, which the page
  // (or markup injected into it) chooses; the settings check names it.
  const absolute = /^https?:\/\/[^/?#\s]/i.test(base) && !/[?#\s]/.test(base);
  // Only an identity of the right form is sent (the shell names what is wrong with one that is not).
  const { customerId, timestamp, digest } = raw;
  const signed = config.identity && new TextEncoder().encode(customerId).length <= 128 && !customerId.includes("\n") && /^\d+$/.test(timestamp) && /^[0-9a-fA-F]{64}$/.test(digest);
  // The answers, as they come; the full widget, once it runs, reads for itself.
  const answered = (answer, save) => {
    if (page.full) return;
    if (answer?.failed) page.status = answer.failed === "offline" ? "offline" : "error";
    else if (answer) save(answer);
    for (const element of page.live) element.render();
  };
  let ready, programRead, shopperRead;
  const started = new Promise((resolve) => (ready = resolve));
  const programDone = new Promise((resolve) => (programRead = resolve));
  const shopperDone = absolute && signed ? new Promise((resolve) => (shopperRead = resolve)) : null;
  const receive = (m) => {
    if (m.version !== undefined) {
      Object.assign(shell, { currency: m.currency, available: m.available, tierId: m.tierId });
      if (m.version !== shell.version) {
        // Asked again, by the elements drawing again (and whoever waits for an old answer stops waiting).
        shell.version = m.version;
        const old = shell.texts;
        shell.texts = new Map();
        for (const entry of old.values()) entry.resolve();
        if (page.sheet) for (const element of page.live) element.render();
      }
    }
    const entry = shell.texts.get(`${m.op}\u0000${m.key}`);
    if (entry && entry.value === undefined && m.version === shell.version) {
      entry.value = m;
      entry.resolve();
    }
    if (m.op === "failed" && (!m.during || m.during === "start")) {
      console.error(PREFIX, "could not load its code:", m.error);
      ready(null);
    } else if (m.op === "failed") {
      // One step failed (a bug, or a trap in the wasm): said once; whoever waits for it stops waiting.
      if (!page.failures.has(m.error)) page.failures.add(m.error), console.error(PREFIX, `the shell could not answer (${m.during}):`, m.error);
      const waiting = shell.texts.get(`${m.during}\u0000${m.key}`);
      if (waiting && waiting.value === undefined) (waiting.value = { text: null, problems: m.error, points: NaN, minimum: NaN }), waiting.resolve();
      if (m.during === "program") programRead();
      if (m.during === "shopper") shopperRead?.();
      if (m.during === "visit") (page.visiting = false), record([]);
    } else if (m.op === "problems") {
      console.error(PREFIX, explain(lines(m.problems)));
      ready(null);
    } else if (m.op === "ready") ready(m);
    else if (m.op === "program") {
      if (m.answer === null) page.status = "fresh";
      answered(m.answer, ({ text, etag: tagged }) => {
        if (m.ok) {
          cache.set("program", `${tagged ?? ""}\n${text}`);
          page.status = "fresh";
          // A landing referral link is recorded by the full widget (the program names its parameter).
          const param = JSON.parse(text).referral?.param ?? "ref";
          if (new URLSearchParams(location.search).has(param)) full().catch(() => {});
        } else {
          // Not a program the rules accept: the full widget says why.
          full().catch(() => {});
        }
      });
      programRead();
    } else if (m.op === "shopper") {
      answered(m.answer, ({ text }) => m.ok && cache.set(`shopper:${id}`, text));
      shopperRead();
    } else if (m.op === "personalise") {
      cache.set("preferences", m.text);
      for (const element of page.live) element.render();
    } else if (m.op === "visit") {
      if (m.text) cache.set("history", m.text);
      for (const name of m.left) cache.remove(name);
      if (m.arrival && m.text) page.kept = true;
      page.visiting = false;
      record([]);
    }
  };
  // Everything starts at once, in the shell's host: its wasm, the program and the shopper's state, from the
  // cache first.
  shell.post = connect(receive);
  shell.post({
    op: "start",
    wasm: [url("shellWasm"), FILES.shellWasm[1]],
    settings: json(raw),
    base,
    absolute,
    timeout: Number(raw.timeoutMs) || 10_000,
    etag,
    cachedProgram,
    id,
    cachedShopper: (id && cache.get(`shopper:${id}`)) || "",
    auth: absolute && signed ? authorization(config.identity) : "",
  });
  const { fromCache, cachedShopper } = (await started) ?? {};
  if (fromCache === undefined) return;
  page.status = fromCache ? "stale" : "loading";
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  page.sheet = sheet;
  // Without a cached copy, the elements are defined once the answers are in, so the first frame that shows them
  // shows the points, not a placeholder (until then the reserve rule above keeps the badges' box, so nothing
  // moves). An API slower than a second gets the placeholders first.
  const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  if (!fromCache || (id && !cachedShopper)) await Promise.race([Promise.all([programDone, shopperDone]), deadline(1000)]);
  // And the texts of the elements already on the page are asked for before they are defined, for the same reason.
  // (Asked again when the version changes meanwhile, as a read comes in.)
  const until = Date.now() + 250;
  while (shell.currency && Date.now() < until) {
    const asked = [...document.querySelectorAll("loyalty-points, loyalty-cart-points")].map((e) => askBadge(e, Object.hasOwn(e, "cart") ? e.cart : null)[2]);
    if (launcher.add || document.querySelector("loyalty-launcher")) asked.push(ask("launcher", locale(document.querySelector("loyalty-launcher") ?? document.createElement("p")), {}));
    if (asked.every((entry) => entry.value !== undefined)) break;
    await Promise.race([Promise.all(asked.map((entry) => entry.done)), deadline(until - Date.now())]);
  }
  // This shop's entries, read once: the time spent on the product pages left before, as it was kept, and below
  // what the full widget must send or sweep.
  const names = cache.names("");
  const left = names.filter((name) => name.startsWith("visit:"));
  const spent = left.map((name) => cache.get(name)?.split("\n")).filter((v) => v?.length === 3).map(([id, at, dwell]) => [id, Number(at), Number(dwell)]);
  if (left.length > 0) record(spent, left);
  for (const [name] of Object.entries(TAGS)) if (!customElements.get(name)) customElements.define(name, class extends LoyaltyElement {});
  if (launcher.x !== undefined || launcher.y !== undefined) {
    const offsets = new CSSStyleSheet();
    offsets.replaceSync(`loyalty-launcher{${launcher.x ? `--loyalty-offset-x:${launcher.x};` : ""}${launcher.y ? `--loyalty-offset-y:${launcher.y};` : ""}}`);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, offsets];
  }
  if (launcher.add && !document.querySelector("loyalty-launcher")) {
    const element = document.createElement("loyalty-launcher");
    if (launcher.position) element.setAttribute("position", launcher.position);
    document.body.append(element);
  }
  // Elements follow the page's language when it changes (a language switch that does not reload).
  new MutationObserver(() => {
    for (const element of page.live) element.attributeChangedCallback("locale");
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  // Writes waiting to be sent, a landing referral still to record, or another shopper's data on this device
  // (signed out, or someone else signed in): the full widget sends them, or removes what is not this shopper's
  // (SECURITY.md, data left in localStorage after sign-out).
  const mine = (name) => id !== "" && (name === `shopper:${id}` || name.startsWith(`outbox:${id}:`));
  const waiting = names.some((name) => name.startsWith(`outbox:${id}:`) || name === "referral");
  const others = names.some((name) => (name.startsWith("shopper:") || name.startsWith("outbox:")) && !mine(name));
  if (waiting || others) full().catch(() => {});
}

start().catch((error) => console.error(PREFIX, error));
