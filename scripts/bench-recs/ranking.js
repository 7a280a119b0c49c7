// A straightforward JavaScript implementation of loyalty-core's ranking (core/src/recommend.rs), written for
// the benchmark only: the same signals and weights (bought together, TF-IDF content similarity, popularity,
// interest decaying with a 14-day half-life; MMR with summed redundancy), without loyalty boosts. Idiomatic
// JS: Maps, arrays of objects, one pass per signal.

const WEIGHTS = { halfLifeDays: 14, together: 1.0, similar: 0.3, popular: 0.1, lambda: 0.8 };

export function buildIndex(products) {
  const rows = new Map();
  const termIds = new Map();
  const termDocs = [];
  const items = products.map((p, row) => {
    rows.set(p.id, row);
    const terms = [];
    for (const name of [...(p.categories ?? []).map((c) => `c:${c}`), ...(p.tags ?? []).map((t) => `t:${t}`)]) {
      let id = termIds.get(name);
      if (id === undefined) { id = termDocs.length; termIds.set(name, id); termDocs.push(0); }
      if (!terms.includes(id)) { terms.push(id); termDocs[id] += 1; }
    }
    return { id: p.id, popularity: Math.min(p.popularity ?? 0, 100), inStock: p.inStock !== false, terms, neighbours: p.neighbours ?? [], weights: p.neighbourWeights ?? [] };
  });
  const n = Math.max(products.length, 1);
  const idf = termDocs.map((d) => Math.log(n / Math.max(d, 1)) + 1);
  for (const item of items) {
    const norm = item.terms.reduce((s, t) => s + idf[t] ** 2, 0);
    item.invNorm = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    item.near = item.neighbours.slice(0, 8).map((id, k) => ({
      row: rows.get(id), weight: k < item.weights.length ? Math.min(item.weights[k], 1000) / 1000 : 0.2 / (k + 1),
    })).filter((x) => x.row !== undefined);
  }
  return { items, rows, idf, termCount: termDocs.length };
}

function similarity(index, a, b) {
  const ta = index.items[a].terms, tb = index.items[b].terms;
  let dot = 0;
  for (const t of ta) if (tb.includes(t)) dot += index.idf[t] ** 2;
  return dot * index.items[a].invNorm * index.items[b].invNorm;
}

export function recommend(index, history, request, now) {
  const { items, rows, idf } = index;
  const limit = Math.min(Math.max(request.limit ?? 10, 1), 50);
  const blocked = new Set();
  for (const id of [...(request.exclude ?? []), ...(request.cart ?? []), ...(request.productId ? [request.productId] : [])]) blocked.add(id);
  for (const e of history) blocked.add(e.productId);
  const seeds = [];
  if (request.productId && rows.has(request.productId)) seeds.push({ row: rows.get(request.productId), weight: 4 });
  for (const id of request.cart ?? []) if (rows.has(id)) seeds.push({ row: rows.get(id), weight: (4 / request.cart.length) * 2 });
  const halfLife = WEIGHTS.halfLifeDays * 86400;
  for (const e of history) {
    const row = rows.get(e.productId);
    if (row === undefined) continue;
    const decay = Math.exp(-(Math.max(now - e.at, 0) / halfLife) * Math.LN2);
    const kind = e.kind === "view" ? 0.5 + Math.min(e.dwellSeconds ?? 0, 120) / 120 : e.kind === "cart" ? 2 : 3;
    const seed = seeds.find((s) => s.row === row);
    if (seed) seed.weight += kind * decay; else seeds.push({ row, weight: kind * decay });
  }
  const total = seeds.reduce((s, x) => s + x.weight, 0);
  const together = new Float64Array(items.length);
  for (const seed of seeds) for (const { row, weight } of items[seed.row].near) together[row] += (weight * seed.weight) / total;
  const profile = new Float64Array(index.termCount);
  for (const seed of seeds) {
    const scale = (seed.weight / total) * items[seed.row].invNorm;
    for (const t of items[seed.row].terms) profile[t] += idf[t] * scale;
  }
  const profileNorm = Math.sqrt(profile.reduce((s, v) => s + v * v, 0));
  const similarWeight = request.context === "cart" ? WEIGHTS.similar / 4 : WEIGHTS.similar;
  const scored = [];
  items.forEach((item, row) => {
    if (blocked.has(item.id) || !item.inStock) return;
    const popular = item.popularity / 100;
    let similar = 0;
    if (profileNorm > 0) {
      let dot = 0;
      for (const t of item.terms) dot += profile[t] * idf[t];
      similar = (dot * item.invNorm) / profileNorm;
    }
    const score = seeds.length === 0 ? popular : WEIGHTS.together * together[row] + similarWeight * similar + WEIGHTS.popular * popular;
    scored.push({ score, row });
  });
  scored.sort((a, b) => b.score - a.score || (items[a.row].id < items[b.row].id ? -1 : 1));
  const pool = scored.slice(0, Math.max(limit * 4, 40));
  const top = pool.length ? Math.max(pool[0].score, Number.MIN_VALUE) : 1;
  const chosen = [];
  const left = pool.slice();
  while (chosen.length < limit && left.length) {
    let best = 0, bestValue = -Infinity;
    left.forEach((candidate, at) => {
      const redundancy = chosen.reduce((s, c) => s + similarity(index, candidate.row, c.row), 0);
      const value = (WEIGHTS.lambda * candidate.score) / top - (1 - WEIGHTS.lambda) * redundancy;
      if (value > bestValue) { bestValue = value; best = at; }
    });
    chosen.push(left.splice(best, 1)[0]);
  }
  return chosen.map((c) => items[c.row].id);
}
