import { chromium } from "playwright-core";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage"] });
for (let run = 0; run < 3; run++) {
const ctx = await b.newContext({ viewport: { width: 390, height: 844 } });
const p = await ctx.newPage();
const cdp = await ctx.newCDPSession(p);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
await cdp.send("Profiler.start");
await p.goto("http://127.0.0.1:8092/product.html", { waitUntil: "load" });
await p.waitForSelector("loyalty-points[data-points]");
await p.waitForTimeout(300);
const { profile } = await cdp.send("Profiler.stop");
const nodes = new Map(profile.nodes.map(n => [n.id, n]));
const parent = new Map(); for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map(); 
for (let i = 0; i < profile.samples.length; i++) { const id = profile.samples[i]; self.set(id, (self.get(id)||0) + (profile.timeDeltas[i]||0)); }
// inclusive time per function name (counted once per stack)
const incl = {}; const selfBy = {};
for (const [id, t] of self) {
  const seen = new Set(); let cur = id; const leaf = nodes.get(id).callFrame;
  const lk = (leaf.functionName||"(anon)") + " " + (leaf.url.split("/").pop()||"");
  selfBy[lk] = (selfBy[lk]||0)+t;
  while (cur !== undefined) { const cf = nodes.get(cur).callFrame; const k = (cf.functionName||"(anon)") + " " + (cf.url.split("/").pop()||""); if (!seen.has(k)) { incl[k]=(incl[k]||0)+t; seen.add(k);} cur = parent.get(cur); }
}
if (run < 2) continue;
console.log("inclusive (ms):"); for (const [k,v] of Object.entries(incl).sort((a,b)=>b[1]-a[1]).slice(0,30)) console.log((v/1000).toFixed(1).padStart(8), k);
console.log("self (ms):"); for (const [k,v] of Object.entries(selfBy).sort((a,b)=>b[1]-a[1]).slice(0,25)) console.log((v/1000).toFixed(1).padStart(8), k);
await ctx.close();
}
await b.close();
