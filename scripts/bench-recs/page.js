// The browser side of `make bench-recs`: synthetic catalogs (the same generator as core/examples/bench_recs.rs,
// so native, wasm and JS rank the same products), then index building and top-10 rankings timed for the wasm
// build and for the JavaScript implementation, side by side, alternating run by run.
import init, { RecommendationIndex, createClient } from "/pkg/storefront_loyalty.js";
import { buildIndex, recommend } from "./ranking.js";

const M = (1n << 64n) - 1n;
function rng(seed) {
  let state = BigInt(seed);
  return (n) => {
    state = (state + 0x9E3779B97F4A7C15n) & M;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M;
    return Number((z ^ (z >> 31n)) % BigInt(n));
  };
}
const pad = (i) => String(i).padStart(6, "0");

function catalog(n, seed) {
  const below = rng(seed);
  const products = [];
  for (let i = 0; i < n; i++) {
    const neighbours = Array.from({ length: 8 }, () => `p${pad(below(n))}`);
    const price = 100 + below(50000);
    const categories = [0, 1].map(() => `cat-${below(60)}`);
    const tags = [0, 1, 2].map(() => `tag-${below(400)}`);
    const inStock = below(10) > 0;
    const popularity = below(101);
    products.push({ id: `p${pad(i)}`, title: { en: `Product ${i}` }, url: `/p/${i}`, image: `/img/${i}.jpg`, price, categories, tags,
      inStock, popularity, neighbours, neighbourWeights: Array.from({ length: 8 }, (_, k) => Math.floor(800 / (k + 1))) });
  }
  return products;
}

// The same catalog in columns, as the reference server writes `GET /v1/catalog?format=columns`.
function columns(products) {
  const names = new Map();
  const rowOf = new Map(products.map((p, i) => [p.id, i]));
  const termsOf = (p) => [...new Set([...p.categories.map((c) => `c:${c}`), ...p.tags.map((t) => `t:${t}`)])];
  for (const p of products) for (const t of termsOf(p)) names.set(t, 0);
  const terms = [...names.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  terms.forEach((t, i) => names.set(t, i));
  const out = { format: "columns-1", id: [], title: { en: [] }, url: [], image: [], price: [], popularity: [], inStock: [],
    addedAt: [], terms, termCount: [], productTerms: [], neighbourCount: [], neighbours: [], neighbourWeights: [] };
  for (const p of products) {
    out.id.push(p.id); out.title.en.push(p.title.en); out.url.push(p.url); out.image.push(p.image ?? null);
    out.price.push(p.price); out.popularity.push(p.popularity); out.inStock.push(p.inStock ? 1 : 0);
    out.addedAt.push(p.addedAt ?? null);
    const mine = termsOf(p);
    out.termCount.push(mine.length);
    for (const t of mine) out.productTerms.push(names.get(t));
    let count = 0;
    p.neighbours.slice(0, 8).forEach((id, k) => {
      if (!rowOf.has(id)) return;
      out.neighbours.push(rowOf.get(id)); out.neighbourWeights.push(p.neighbourWeights[k]); count++;
    });
    out.neighbourCount.push(count);
  }
  return JSON.stringify(out);
}

function history(n, now) {
  const below = rng(99);
  return Array.from({ length: 200 }, () => {
    const productId = `p${pad(below(n))}`;
    const kind = ["view", "view", "cart", "purchase"][below(4)];
    const at = now - below(90 * 86400);
    return { productId, kind, at, dwellSeconds: below(120) };
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.round((s.length - 1) * 0.95))] };
};

window.runBench = async (sizes, runs) => {
  await init();
  const now = 1767225600;
  const rows = [];
  for (const n of sizes) {
    const products = catalog(n, 7);
    const text = JSON.stringify(products);
    const events = history(n, now);
    const request = { limit: 10 };
    let t = performance.now();
    const wasm = RecommendationIndex.fromJson(text);
    const wasmBuild = performance.now() - t;
    const columnsText = columns(products);
    t = performance.now();
    const fromColumns = RecommendationIndex.fromColumns(columnsText);
    const columnsBuild = performance.now() - t;
    fromColumns.setHistory(events);
    const columnsTop = fromColumns.rank(request, now).map((x) => x.productId);
    fromColumns.free();
    // The history is decoded once, as the widget's client holds it; the JS version holds its array.
    wasm.setHistory(events);
    t = performance.now();
    const js = buildIndex(JSON.parse(text));
    const jsBuild = performance.now() - t;
    const wasmTimes = [], jsTimes = [];
    let wasmTop = [], jsTop = [];
    for (let r = 0; r < runs + 3; r++) {
      t = performance.now();
      wasmTop = wasm.rank(request, now).map((x) => x.productId);
      const a = performance.now() - t;
      t = performance.now();
      jsTop = recommend(js, events, request, now);
      const b = performance.now() - t;
      if (r >= 3) { wasmTimes.push(a); jsTimes.push(b); }
    }
    wasm.free();
    rows.push({ n, bytes: text.length, columnsBytes: columnsText.length, columnsBuild,
      sameFromColumns: columnsTop.join() === wasmTop.join(), wasmBuild, jsBuild, wasm: stats(wasmTimes), js: stats(jsTimes),
      sameTop: wasmTop.join() === jsTop.join(), wasmTop, jsTop });
  }
  return rows;
};

const PROGRAM = { version: 1, currency: "CNY", locales: ["en"], name: { en: "Club" }, earn: { rate: { points: 1, perAmount: 100 } } };

// The widget's own path for a candidate set of `n` products: the client reads the catalog, decodes it, indexes
// it a slice at a time and ranks. Reports the time to the first list and the longest main-thread task meanwhile.
window.runClient = async (n, runs) => {
  await init();
  const products = catalog(n, 11);
  const results = [];
  for (let r = 0; r < runs; r++) {
    // (The memory backend checks its catalog when the client is created; a real backend's arrives later. The
    // watch starts once the client is ready, so it covers reading, decoding, indexing and ranking.)
    const client = createClient({ memory: { program: PROGRAM, catalog: products }, cache: false });
    await client.ready();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const tasks = [];
    const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) tasks.push(e.duration); });
    observer.observe({ type: "longtask" });
    const t = performance.now();
    await client.recommend({ limit: 10 });
    const first = performance.now() - t;
    await new Promise((resolve) => setTimeout(resolve, 50));
    observer.disconnect();
    client.destroy();
    results.push({ first, longest: tasks.length ? Math.max(...tasks) : 0 });
  }
  return { first: stats(results.map((x) => x.first)), longest: stats(results.map((x) => x.longest)) };
};
