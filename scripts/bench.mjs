// The widget's cost to a product page in headless Chromium, measured as issue 17's "How it is measured" says
// (run by scripts/bench.sh against the demo server): the demo product page at 390x844, cold cache (a fresh
// browser context per load), as a guest and signed in, from navigation until AFTER_LOAD_MS (5 s) after the load
// event with no interaction. The baseline is the same page with every widget file blocked (page.route abort),
// loaded alternately with the real ones; figures are medians of RUNS (7) loads. First load is every byte the
// widget's scripts request in that window, whatever the files are called, as gzip -9 of each response body; the
// API's JSON answers are printed beside it. Everything is measured twice: as this machine runs, and with
// Chromium throttled to 4x CPU and 1.6 Mbps / 150 ms round trips. Each figure is printed beside its target;
// a figure over its target is printed, not failed (this is a bench, not a test).
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const BASE = process.env.BENCH_URL;
const RUNS = Number(process.env.RUNS ?? 7);
const AFTER_LOAD = Number(process.env.AFTER_LOAD_MS ?? 5000);
// The tag's src: the one widget file a page names. Everything else the widget fetches is found by following
// requests from it. Blocking it (and its directory) blocks every widget file.
const LOADER = process.env.BENCH_LOADER ?? "/pkg/storefront-loyalty.js";
const WIDGET_DIR = LOADER.slice(0, LOADER.lastIndexOf("/") + 1);
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const median = (xs) => {
  const ys = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return ys.length ? ys[Math.floor(ys.length / 2)] : null;
};
const kb = (n) => (n === null ? "n/a" : `${(n / 1024).toFixed(1)} KB`);
const ms = (n) => (n === null ? "n/a" : `${n.toFixed(1)} ms`);

// The pages (bench.sh writes the variants into the served copy of www/). The targets are set for the page
// without <loyalty-recommendations>; the page as served shows what the list adds on top.
const SHELL = "product-without-recommendations.html";
const SERVED = "product.html";
const SCENARIOS = [
  { key: "shell guest", path: SHELL, signedIn: false, baseline: "shell blocked" },
  { key: "shell signed in", path: "product-without-recommendations-signed-in.html", signedIn: true, baseline: "shell blocked", panel: true },
  { key: "served guest", path: SERVED, signedIn: false, baseline: "served blocked" },
  { key: "cart guest", path: "cart.html", signedIn: false, baseline: "cart blocked", cart: true },
];
// A blocked page is the same markup whichever shopper it was signed for (the identity sits on the blocked tag),
// so the guest and signed-in loads of one page share their baseline series.
const BASELINES = [
  { key: "shell blocked", path: SHELL, block: true },
  { key: "served blocked", path: SERVED, block: true },
  { key: "cart blocked", path: "cart.html", block: true, cart: true },
];
const ROUND = [BASELINES[0], SCENARIOS[0], SCENARIOS[1], BASELINES[1], SCENARIOS[2], BASELINES[2], SCENARIOS[3]];

const NETWORKS = {
  "this machine, loopback": null,
  "4x CPU, 1.6 Mbps / 150 ms RTT": { cpu: 4, latency: 150, down: 1.6e6 / 8, up: 750e3 / 8 },
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });

// Set up in the page before its scripts run: first render (the badge shows its points and the launcher its
// balance, or its name for a guest, who has none), long tasks, layout shifts, LCP. Mutations are watched in the
// document and in every shadow root as it is attached, so the time is taken in the microtask after the DOM
// change that completes the render, not at the next frame.
function instrument(signedIn) {
  const bench = (window.__bench = { firstRender: null, longest: 0, shift: 0, lcp: null, listNear: null, listItems: null });
  const observers = [];
  const check = () => {
    if (bench.firstRender !== null) return;
    const root = document.querySelector("loyalty-launcher")?.shadowRoot;
    if (!document.querySelector("loyalty-points[data-points], loyalty-cart-points[data-points]") || !root) return;
    const count = root.querySelector("[part~=count]");
    const name = root.querySelector(".name");
    const launcher = signedIn ? count && !count.hidden && /\d/.test(count.textContent) : name && name.textContent.trim() !== "";
    if (!launcher) return;
    bench.firstRender = performance.now();
    for (const o of observers) o.disconnect();
  };
  const watch = (node) => {
    const o = new MutationObserver(check);
    o.observe(node, { subtree: true, childList: true, attributes: true, characterData: true });
    observers.push(o);
  };
  watch(document);
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    if (bench.firstRender === null) watch(root);
    // A list: when its placeholders are drawn (it has come within a viewport of being seen) and its items.
    if (this.localName === "loyalty-recommendations") {
      const list = new MutationObserver(() => {
        if (bench.listNear === null && root.querySelector(".rec-skeleton")) bench.listNear = performance.now();
        if (root.querySelector(".rec-item")) (bench.listItems = performance.now()), list.disconnect();
      });
      list.observe(root, { subtree: true, childList: true });
    }
    return root;
  };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) bench.longest = Math.max(bench.longest, e.duration); })
    .observe({ type: "longtask", buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) bench.shift += e.value; })
    .observe({ type: "layout-shift", buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) bench.lcp = e.startTime; })
    .observe({ type: "largest-contentful-paint", buffered: true });
}

async function load(scenario, network) {
  if (process.env.BENCH_DEBUG) console.error(`load: ${scenario.key}${network ? " (throttled)" : ""}`);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  if (scenario.block) {
    await page.route((url) => url.pathname === LOADER || url.pathname.startsWith(WIDGET_DIR), (route) => route.abort());
  }
  await page.addInitScript(instrument, scenario.signedIn ?? false);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await cdp.send("Network.enable");
  if (network) {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: network.cpu });
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false, latency: network.latency, downloadThroughput: network.down, uploadThroughput: network.up,
    });
  }
  // Who asked for each URL: a request is the widget's when it is the loader, when a widget file is on its
  // initiator's stack, or when it comes from the widget's directory (Chromium gives the modulepreload links the
  // loader adds no stack, only "about:client").
  const widgetUrls = new Set();
  const origin = new Map();
  cdp.on("Network.requestWillBeSent", ({ request, initiator }) => {
    const frames = [];
    for (let s = initiator.stack; s; s = s.parent) frames.push(...s.callFrames.map((f) => f.url));
    if (initiator.url) frames.push(initiator.url);
    const path = new URL(request.url).pathname;
    const widget = path === LOADER || path.startsWith(WIDGET_DIR) || frames.some((u) => widgetUrls.has(u));
    if (widget) widgetUrls.add(request.url);
    if (!origin.has(request.url)) origin.set(request.url, widget);
  });
  const bodies = [];
  page.on("response", (response) => {
    bodies.push((async () => {
      const body = await response.body().catch(() => null);
      // (Playwright leaves finished() pending for some answers read by a worker: the timing is there by then.)
      await Promise.race([response.finished().catch(() => null), new Promise((resolve) => setTimeout(resolve, 1000))]);
      const t = response.request().timing();
      const end = t.startTime > 0 && t.responseEnd >= 0 ? t.startTime + t.responseEnd : null;
      return { url: response.url(), type: response.headers()["content-type"] ?? "", raw: body?.length ?? 0, gz: body ? gzipSync(body, { level: 9 }).length : 0, end };
    })());
  });
  await page.goto(`${BASE}/${scenario.path}`, { waitUntil: "load", timeout: 60000 });
  await page.waitForTimeout(AFTER_LOAD);
  const metrics = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const responses = await Promise.all(bodies);
  const files = [], api = [], other = [];
  for (const r of responses) {
    // Requests from a worker never reach the page's CDP session (Playwright reports them on the page): the
    // demo's pages have no workers of their own, so a request the session did not see is the widget's.
    const widget = origin.has(r.url) ? origin.get(r.url) : true;
    // A blob: URL (the shell's worker, made from the loader's own text) is not a download.
    if (/^(blob|data):/.test(r.url)) continue;
    if (!widget) other.push(r);
    else if (/json/.test(r.type)) api.push(r);
    else files.push(r);
  }
  // The first wasm's arrival, on the page's clock (a worker's downloads are not in the page's resource timing, so
  // it is taken from the network's timing of the response, in wall-clock milliseconds).
  const wasmEnds = files.filter((f) => /wasm/.test(f.type) && f.end !== null).map((f) => f.end);
  const timing = await page.evaluate((ends) => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { ...window.__bench, wasmEnd: ends.length ? Math.min(...ends) - performance.timeOrigin : null, loadEvent: nav?.loadEventStart ?? null };
  }, wasmEnds);
  // The panel: pressed once the page has settled (after the figures above), timed from the press to a panel whose
  // controls are there (the rewards with their redeem buttons for a signed-in shopper), downloads included.
  let panel = null;
  if (scenario.panel) {
    await page.evaluate(() => document.addEventListener("pointerdown", () => { window.__pressed = performance.now(); }, { capture: true, once: true }));
    await page.click("loyalty-launcher");
    await page.waitForFunction(() => {
      const dialog = document.querySelector("loyalty-launcher")?.shadowRoot?.querySelector("dialog[open]");
      return dialog && dialog.querySelector("[data-action=redeem]") && !dialog.querySelector("[aria-busy=true]");
    }, null, { timeout: 30000 });
    panel = await page.evaluate(() => performance.now() - window.__pressed);
  }
  await context.close();
  return {
    files, api, other, ...timing, panel,
    firstLoad: files.reduce((s, f) => s + f.gz, 0),
    apiBytes: api.reduce((s, f) => s + f.gz, 0),
    renderAfterWasm: timing.firstRender !== null && timing.wasmEnd !== null ? timing.firstRender - timing.wasmEnd : null,
    listAppears: timing.listNear !== null && timing.listItems !== null ? timing.listItems - timing.listNear : null,
    mainThread: (metrics.TaskDuration ?? 0) * 1000,
  };
}

// A figure beside its target, with a marker that cannot be missed.
const against = (value, limit, unit) => {
  if (value === null) return "(not measured)";
  const shown = unit === "KB" ? kb(limit * 1024) : `${limit} ms`;
  const over = unit === "KB" ? value > limit * 1024 : value > limit;
  return `target <= ${shown}: ${over ? "OVER  <<<" : "under ok"}`;
};
const row = (label, values, note = "") => console.log(`  ${label.padEnd(44)}${values.map((v) => v.padStart(17)).join("")}   ${note}`);
const path = (url) => { const u = new URL(url); return u.pathname + u.search; };

const day = new Date().toISOString().slice(0, 10);
console.log(`make bench, ${day}: demo product page, 390x844, headless Chromium, cold cache (a fresh context per load),`);
console.log(`navigation to ${AFTER_LOAD / 1000} s after the load event, no interaction; medians of ${RUNS} loads each, pages alternating.`);
console.log(`"shell" = the product page without <loyalty-recommendations> (the page the targets are set for); "served" = as served,`);
console.log(`with the list. Baseline = the same page with every widget file blocked. Signed in = demo-gold, by the tag's data-*.`);

for (const [label, network] of Object.entries(NETWORKS)) {
  const runs = Object.fromEntries([...SCENARIOS, ...BASELINES].map((s) => [s.key, []]));
  await load(SCENARIOS[0], network); // warm the server and its database; the browser cache starts cold each load
  for (let i = 0; i < RUNS; i++) for (const s of ROUND) runs[s.key].push(await load(s, network));
  const m = (key, figure) => median(runs[key].map((r) => r[figure]));
  const cols = SCENARIOS.map((s) => s.key);
  console.log(`\n== ${label} ==`);
  console.log(` first load, gzip -9 of each response (the run nearest the median total)`);
  row("", cols);
  const typical = (key) => {
    const target = m(key, "firstLoad");
    return runs[key].find((r) => r.firstLoad === target) ?? runs[key][0];
  };
  const names = [...new Set(cols.flatMap((c) => typical(c).files.map((f) => path(f.url))))];
  for (const name of names) row(`  ${name}`, cols.map((c) => kb(typical(c).files.find((f) => path(f.url) === name)?.gz ?? 0)));
  row("widget files, total (median)", cols.map((c) => kb(m(c, "firstLoad"))), `shell: ${against(m("shell guest", "firstLoad"), 60, "KB")}; cart: ${against(m("cart guest", "firstLoad"), 60, "KB")}`);
  const apiNames = [...new Set(cols.flatMap((c) => typical(c).api.map((f) => path(f.url))))];
  console.log(" the API's answers, beside it (gzip -9 of the body; not counted above)");
  for (const name of apiNames) row(`  ${name}`, cols.map((c) => kb(typical(c).api.find((f) => path(f.url) === name)?.gz ?? 0)));
  row("API answers, total (median)", cols.map((c) => kb(m(c, "apiBytes"))));
  const blockedBytes = BASELINES.map((b) => m(b.key, "firstLoad"));
  if (blockedBytes.some((b) => b !== 0)) console.log(`  !! the baseline still downloaded widget bytes: ${blockedBytes.map(kb).join(", ")}`);

  console.log(" main thread");
  row("", cols);
  const adds = (s) => { const a = m(s.key, "mainThread"), b = m(s.baseline, "mainThread"); return a === null || b === null ? null : a - b; };
  row("task time with the widget", cols.map((c) => ms(m(c, "mainThread"))));
  row("task time, widget files blocked", SCENARIOS.map((s) => ms(m(s.baseline, "mainThread"))));
  row("the widget adds (with - without)", SCENARIOS.map((s) => ms(adds(s))), `shell: ${against(adds(SCENARIOS[0]), 20, "ms")}; cart: ${against(adds(SCENARIOS[3]), 20, "ms")}`);
  const longest = (key) => m(key, "longest");
  row("longest task over 50 ms (0 = none)", cols.map((c) => ms(longest(c))), `shell: ${against(longest("shell guest"), 50, "ms")}`);
  row("  same, widget files blocked", SCENARIOS.map((s) => ms(longest(s.baseline))));
  row("press the launcher -> panel interactive", cols.map((c) => ms(m(c, "panel"))), `signed in: ${against(m("shell signed in", "panel"), 200, "ms")}`);
  row("wasm arrived -> first render", cols.map((c) => ms(m(c, "renderAfterWasm"))), `shell: ${against(m("shell guest", "renderAfterWasm"), 16, "ms")}; cart: ${against(m("cart guest", "renderAfterWasm"), 16, "ms")}`);
  row("navigation -> first render", cols.map((c) => ms(m(c, "firstRender"))));
  row("navigation -> load event", cols.map((c) => ms(m(c, "loadEvent"))));
  const unseen = cols.map((c) => runs[c].filter((r) => r.firstRender === null).length);
  if (unseen.some((n) => n > 0)) console.log(`  !! first render not seen within the window in ${unseen.join(" / ")} of ${RUNS} loads`);
  row("CLS with the widget", cols.map((c) => m(c, "shift").toFixed(4)), "target: 0");
  row("CLS, widget files blocked", SCENARIOS.map((s) => m(s.baseline, "shift").toFixed(4)));
  row("LCP with the widget", cols.map((c) => ms(m(c, "lcp"))));
  row("LCP, widget files blocked", SCENARIOS.map((s) => ms(m(s.baseline, "lcp"))));
  // The list's allowance: what the page as served costs over the shell, both as guests.
  const listBytes = m("served guest", "firstLoad") - m("shell guest", "firstLoad");
  const listMain = adds(SCENARIOS[2]) - adds(SCENARIOS[0]);
  console.log(" what <loyalty-recommendations> adds (served guest - shell guest)");
  row("  bytes, widget files", [kb(listBytes)], against(listBytes, 40, "KB"));
  row("  main thread", [ms(listMain)], against(listMain, 5, "ms"));
  row("  the API's answers", [kb(m("served guest", "apiBytes") - m("shell guest", "apiBytes"))], "(the catalog, printed beside)");
  row("  placeholders -> items (it came near)", [ms(m("served guest", "listAppears"))], against(m("served guest", "listAppears"), 1000, "ms"));
  const strays = [...new Set(Object.values(runs).flat().flatMap((r) => r.other.map((o) => path(o.url))))];
  console.log(`  requests not the widget's (the page's own): ${strays.join(", ")}`);
}
await browser.close();
