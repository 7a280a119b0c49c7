// The widget's start-up figures in headless Chromium (run by scripts/bench.sh against the demo server).
// Every figure is a median of RUNS fresh page loads; "with" and "without" the widget alternate in one run
// so machine noise hits both alike.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const BASE = process.env.BENCH_URL;
const RUNS = Number(process.env.RUNS ?? 9);
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

// What a shopper downloads for the widget, gzipped (-9), from the built package.
const files = { loader: "storefront-loyalty.js", "elements + CSS": "elements.js", glue: "storefront_loyalty.js", wasm: "storefront_loyalty_bg.wasm" };
let total = 0;
console.log("download (gzip -9)");
for (const [name, file] of Object.entries(files)) {
  const size = gzipSync(readFileSync(new URL(`../pkg/${file}`, import.meta.url)), { level: 9 }).length;
  total += size;
  console.log(`  ${name.padEnd(16)} ${kb(size)}`);
}
console.log(`  ${"total".padEnd(16)} ${kb(total)}   (budgets: loader <= 10 KB, total <= 60 KB)`);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });

async function load(path) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__bench = { ready: null, defined: null, longest: 0, shift: 0 };
    // Elements are defined, and mounted (a skeleton where data is not there yet), right after the wasm starts.
    customElements.whenDefined("loyalty-points").then(() => { window.__bench.defined = performance.now(); });
    document.addEventListener("loyalty:ready", () => { window.__bench.ready ??= performance.now(); }, true);
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.longest = Math.max(window.__bench.longest, e.duration); })
      .observe({ type: "longtask", buffered: true });
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__bench.shift += e.value; })
      .observe({ type: "layout-shift", buffered: true });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await page.goto(`${BASE}/${path}`, { waitUntil: "load" });
  if (path === "product.html") await page.waitForFunction(() => window.__bench.ready !== null, null, { timeout: 15000 });
  await page.waitForTimeout(500);
  const metrics = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const figures = await page.evaluate(() => {
    const entry = (part) => performance.getEntriesByType("resource").find((e) => e.name.includes(part));
    const loader = entry("storefront-loyalty.js");
    const wasm = entry("_bg.wasm");
    return { ...window.__bench, loaderEnd: loader?.responseEnd ?? null, wasmEnd: wasm?.responseEnd ?? null };
  });
  await context.close();
  return { ...figures, mainThread: (metrics.TaskDuration ?? 0) * 1000, script: (metrics.ScriptDuration ?? 0) * 1000 };
}

const withWidget = [];
const without = [];
await load("product.html"); // warm the server and the disk cache
for (let i = 0; i < RUNS; i++) {
  withWidget.push(await load("product.html"));
  without.push(await load("product-without-widget.html"));
}
await browser.close();

const m = (runs, key) => median(runs.map((r) => r[key]));
console.log(`\nstart-up, demo product page, 390x844, medians of ${RUNS} loads each`);
console.log(`  script start -> first widget render    ${median(withWidget.map((r) => r.defined - r.loaderEnd)).toFixed(1)} ms   (elements mounted: skeletons)`);
console.log(`  wasm arrived -> first widget render    ${median(withWidget.map((r) => r.defined - r.wasmEnd)).toFixed(1)} ms   (budget 50 ms)`);
console.log(`  wasm arrived -> the points shown       ${median(withWidget.map((r) => r.ready - r.wasmEnd)).toFixed(1)} ms   (includes reading the program from the server)`);
console.log(`  longest main-thread task               ${m(withWidget, "longest").toFixed(1)} ms   (tasks over 50 ms only; 0 = none; budget: none)`);
console.log(`  main-thread time, with the widget      ${m(withWidget, "mainThread").toFixed(1)} ms`);
console.log(`  main-thread time, without              ${m(without, "mainThread").toFixed(1)} ms`);
console.log(`  the widget's main-thread time          ${(m(withWidget, "mainThread") - m(without, "mainThread")).toFixed(1)} ms   (budget 20 ms)`);
console.log(`  cumulative layout shift                ${m(withWidget, "shift").toFixed(4)}   (budget 0)`);
