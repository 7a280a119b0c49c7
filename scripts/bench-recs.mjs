// `make bench-recs`, the browser part: opens the benchmark page in headless Chromium and prints the figures
// (see scripts/bench-recs/page.js); the native column comes from core/examples/bench_recs.rs.
import { chromium } from "playwright-core";

const BASE = process.env.BENCH_URL;
const RUNS = Number(process.env.RUNS ?? 31);
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
const page = await browser.newPage();
page.on("pageerror", (e) => console.error("page error:", e.message));
await page.goto(`${BASE}/bench-recs/index.html`);
await page.waitForFunction(() => typeof window.runBench === "function");
const rows = await page.evaluate(([runs]) => window.runBench([1000, 10000, 100000], runs), [RUNS]);
const client = await page.evaluate(() => window.runClient(2000, 9));
await browser.close();
const ms = (x) => `${x.toFixed(2)} ms`;
console.log(`\nheadless Chromium, top 10 for a shopper with 200 history events; ${RUNS} runs each, wasm and JS alternating\n`);
console.log("| products | catalog JSON | index from JSON: wasm / JS | catalog in columns | index from columns: wasm | top 10 wasm: median (p95) | top 10 JS: median (p95) | JS / wasm | same top 10 |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.n} | ${(r.bytes / 1048576).toFixed(1)} MB | ${r.wasmBuild.toFixed(0)} / ${r.jsBuild.toFixed(0)} ms | ${(r.columnsBytes / 1048576).toFixed(1)} MB | ${r.columnsBuild.toFixed(0)} ms${r.sameFromColumns ? "" : " (DIFFERENT top 10)"} | ${ms(r.wasm.median)} (${ms(r.wasm.p95)}) | ${ms(r.js.median)} (${ms(r.js.p95)}) | ${(r.js.median / r.wasm.median).toFixed(2)}x | ${r.sameTop ? "yes" : `no: ${r.wasmTop} / ${r.jsTop}`} |`);
}
console.log(`\nthe widget's path for the default candidate set (2,000 products, memory backend, 9 runs): first list ${ms(client.first.median)} (p95 ${ms(client.first.p95)}), longest main-thread task meanwhile ${ms(client.longest.median)} (p95 ${ms(client.longest.p95)}; 0 means none over 50 ms)\n`);
