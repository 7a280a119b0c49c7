// The time half of `make profile`: loads the demo product page in headless Chromium with the CDP Profiler
// (JS and wasm samples every 100 µs) and Tracing (the browser's own work on the main thread) running, and
// prints milliseconds by phase, medians of RUNS loads: download, compile, instantiate, the widget's wasm by
// what it was doing (decoding JSON, rules, render, the client shell), the JS glue, style, layout, paint, GC.
// The release wasm's frames are named from the profiling build's name section (same code, same function
// indexes). Run by scripts/profile.sh against the demo server; PROFILE_NAMES is the profiling wasm.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const BASE = process.env.PROFILE_URL;
const RUNS = Number(process.env.RUNS ?? 5);
const AFTER_LOAD = Number(process.env.AFTER_LOAD_MS ?? 5000);
const NAMES = process.env.PROFILE_NAMES; // the profiling wasm, for its name section
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = (name) => name.replace(/\[[0-9a-f]{16}\]/g, "").replace(/::h[0-9a-f]{16}$/, "");

// Function index -> name, from the wasm name section (subsection 1). LEB128 throughout.
function functionNames(bytes) {
  const names = new Map();
  let at = 8;
  const leb = () => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return value;
  };
  const text = (n) => { const s = bytes.subarray(at, at + n).toString("utf8"); at += n; return s; };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 0 && text(leb()) === "name") {
      while (at < end) {
        const sub = bytes[at++];
        const subEnd = leb() + at;
        if (sub === 1) for (let n = leb(); n > 0; n--) { const index = leb(); names.set(index, plain(text(leb()))); }
        at = subEnd;
      }
    }
    at = end;
  }
  return names;
}
const namedWasm = NAMES ? readFileSync(NAMES) : null;
const wasmNames = namedWasm ? functionNames(namedWasm) : new Map();
const exported = new Set(namedWasm ? WebAssembly.Module.exports(new WebAssembly.Module(namedWasm)).map((e) => e.name) : []);

// What a wasm frame was doing, by its name; the innermost frame with a phase decides (std, alloc and the
// allocator take the phase of their caller).
const PHASES = [
  ["decoding JSON", /loyalty_core::json|FromJson|from_json|loyalty_core::columns/],
  ["serde output (to JS values)", /serde/],
  ["rules (loyalty_core)", /loyalty_core::|qrcodegen/],
  ["render (views, dom, i18n)", /storefront_loyalty::(views|dom|i18n)/],
  ["client shell (client, store, net, storage)", /storefront_loyalty::/],
  ["export shims (argument conversion)", { test: (name) => / shim$/.test(name) || exported.has(name) }],
];
const WIDGET = { glue: "/storefront_loyalty.js", loader: "/storefront-loyalty.js", elements: "/elements.js", wasm: "_bg.wasm" };
const fileOf = (url) => Object.entries(WIDGET).find(([, part]) => url.includes(part))?.[0];

// Samples taken while V8 compiled a wasm function on its first call count as compiling, not as the phase of
// the stack (the profile's clock is the trace's clock).
function samplesByPhase(profile, lazySpans) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = {};
  const add = (key, ms) => { out[key] = (out[key] ?? 0) + ms; };
  let t = profile.startTime;
  let span = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    while (span < lazySpans.length && lazySpans[span][1] < t) span++;
    if (span < lazySpans.length && lazySpans[span][0] <= t) { add("in lazy compile", ms); return; }
    const stack = [];
    for (let n = id; n !== undefined; n = parent.get(n)) stack.push(nodes.get(n).callFrame);
    const leaf = stack[0];
    const files = stack.map((f) => fileOf(f.url));
    if (files.includes("wasm")) {
      let phase = "other wasm (std, alloc, unnamed)";
      for (const frame of stack) {
        if (fileOf(frame.url) !== "wasm") continue;
        const index = Number(/wasm-function\[(\d+)\]/.exec(frame.functionName)?.[1]);
        const name = wasmNames.get(index) ?? frame.functionName;
        const hit = PHASES.find(([, re]) => re.test(name));
        if (hit) { phase = hit[0]; break; }
      }
      add(`${phase}|${fileOf(leaf.url) === "wasm" ? "wasm" : "js"}`, ms);
    } else if (files.includes("glue")) add("JS glue outside Rust (init, instantiate, callbacks)|js", ms);
    else if (files.includes("elements")) add("elements.js (custom elements)|js", ms);
    else if (files.includes("loader")) add("loader (script tag, integrity, imports)|js", ms);
    else if (leaf.functionName === "(garbage collector)") add("gc", ms);
  });
  return out;
}

// The page's main thread in the trace: the renderer thread that ran the most.
function mainThread(events) {
  const names = new Map(events.filter((e) => e.name === "thread_name").map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const busy = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === "X" && e.name === "RunTask" && names.get(key) === "CrRendererMain") busy.set(key, (busy.get(key) ?? 0) + e.dur);
  }
  return [...busy].sort((a, b) => b[1] - a[1])[0]?.[0];
}
// Milliseconds covered by events of these names on one thread (overlaps counted once, so nesting is fine).
function covered(events, thread, match) {
  const spans = events.filter((e) => e.ph === "X" && `${e.pid}:${e.tid}` === thread && match(e.name)).map((e) => [e.ts, e.ts + e.dur]);
  spans.sort((a, b) => a[0] - b[0]);
  let total = 0, end = -Infinity;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total / 1000;
}
const BROWSER = {
  "compile: streaming (main thread)": (n) => /^v8\.wasm\.compileConsume|^wasm\.FinishStreaming$/.test(n),
  "compile: lazy, first call of each function (main thread)": (n) => n === "wasm.CompileLazy",
  instantiate: (n) => /^wasm\.(Async|Sync)Instantiate$/.test(n),
  "JS parse and compile": (n) => /^v8\.(compile|compileModule|parseOnBackground)$/.test(n),
  "style (recalculate style, stylesheets)": (n) => /^(UpdateLayoutTree|ParseAuthorStyleSheet)$/.test(n),
  layout: (n) => n === "Layout",
  "paint and composite": (n) => /^(PrePaint|Paint|Layerize|Commit|UpdateLayer)$/.test(n),
  "GC (main thread)": (n) => /^(MinorGC|MajorGC|V8\.GC_(SCAVENGER|MARK_COMPACTOR|MC_INCREMENTAL)|BlinkGC\.AtomicPhase)$/.test(n),
};
const offMain = (events, thread, match) =>
  events.filter((e) => e.ph === "X" && `${e.pid}:${e.tid}` !== thread && match(e.name)).reduce((s, e) => s + e.dur, 0) / 1000;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
async function load(path) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await browser.startTracing(page, {
    categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.wasm", "disabled-by-default-v8.wasm.detailed", "blink", "loading"],
  });
  await cdp.send("Profiler.start");
  await page.goto(`${BASE}/${path}`, { waitUntil: "load" });
  await page.waitForTimeout(AFTER_LOAD);
  const { profile } = await cdp.send("Profiler.stop");
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  const metrics = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const downloads = await page.evaluate((widget) => performance.getEntriesByType("resource")
    .filter((e) => Object.values(widget).some((part) => e.name.includes(part)))
    .map((e) => ({ name: e.name, start: e.startTime, end: e.responseEnd })), WIDGET);
  await context.close();
  const thread = mainThread(events);
  const figures = { "main-thread time (all tasks)": metrics.TaskDuration * 1000 };
  for (const [label, match] of Object.entries(BROWSER)) figures[label] = covered(events, thread, match);
  figures["compile: validation and baseline, other threads"] = offMain(events, thread, (n) => /^wasm\.(ValidateFunctionsStreaming|CompileBaseline|BaselineCompilationJob|CompileTopTier)$/.test(n));
  const lazy = events.filter((e) => e.ph === "X" && `${e.pid}:${e.tid}` === thread && e.name === "wasm.CompileLazy")
    .map((e) => [e.ts, e.ts + e.dur]).sort((a, b) => a[0] - b[0]);
  for (const [key, ms] of Object.entries(samplesByPhase(profile, lazy))) figures[`sample|${key}`] = ms;
  for (const d of downloads) figures[`download|${fileOf(d.name)}`] = d.end - d.start;
  if (downloads.length) figures["download|first request -> wasm arrived"] = Math.max(...downloads.map((d) => d.end)) - Math.min(...downloads.map((d) => d.start));
  return figures;
}

const pages = { "product page": "product.html", "without recommendations": "product-without-recommendations.html", "no widget": "product-without-widget.html" };
const runs = Object.fromEntries(Object.keys(pages).map((k) => [k, []]));
await load("product.html"); // warm the server and the disk cache
for (let i = 0; i < RUNS; i++) for (const [label, path] of Object.entries(pages)) runs[label].push(await load(path));
await browser.close();

const keys = [...new Set(Object.values(runs).flat().flatMap((r) => Object.keys(r)))];
const med = (label, key) => median(runs[label].map((r) => r[key] ?? 0));
const cols = Object.keys(pages);
const row = (label, values) => console.log(`  ${label.padEnd(66)}${values.map((v) => (typeof v === "number" ? v.toFixed(1) : v).padStart(11)).join("")}`);
console.log(`release build; demo product page, 390x844, cold cache, guest; navigation to ${AFTER_LOAD / 1000} s after load; medians of ${RUNS} loads each, pages alternating`);
console.log(`columns: the product page as served; without <loyalty-recommendations>; that page without the widget; widget = the second minus the third`);
console.log(`(the profiler and tracing add overhead: totals run above \`make bench\`'s; compare phases, not totals)`);
row("ms", ["product", "no list", "no widget", "widget"]);
const diff = (key) => [...cols.map((c) => med(c, key)), med("without recommendations", key) - med("no widget", key)];
console.log(" download (loopback; gzip sizes in `make bench`)");
for (const key of keys.filter((k) => k.startsWith("download|"))) row(key.slice(9), [...cols.map((c) => med(c, key)), ""]);
console.log(" browser work on the main thread (Tracing); widget = without recommendations - no widget");
for (const key of Object.keys(BROWSER)) row(key, diff(key));
row("compile: validation and baseline, other threads", diff("compile: validation and baseline, other threads"));
console.log(" the widget's JS and wasm (Profiler samples; phase of the innermost named wasm frame)");
for (const [phase] of [...PHASES, ["other wasm (std, alloc, unnamed)"]]) {
  row(`${phase}: wasm`, [...cols.map((c) => med(c, `sample|${phase}|wasm`)), med("without recommendations", `sample|${phase}|wasm`)]);
  row(`${phase}: glue and DOM it calls`, [...cols.map((c) => med(c, `sample|${phase}|js`)), med("without recommendations", `sample|${phase}|js`)]);
}
for (const key of keys.filter((k) => /^sample\|(JS glue|elements|loader)/.test(k))) {
  row(key.slice(7, -3), [...cols.map((c) => med(c, key)), med("without recommendations", key)]);
}
row("samples inside a lazy compile (counted above as compile)", diff("sample|in lazy compile"));
row("GC seen by the profiler", diff("sample|gc"));
row("main-thread time (all tasks, Performance.getMetrics)", diff("main-thread time (all tasks)"));
