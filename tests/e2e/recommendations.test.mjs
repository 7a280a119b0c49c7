// End-to-end recommendations on the demo shop against the reference server: the product page lists what goes
// with its product (ranked in the browser from the bounded catalog), the visit goes into the device's history
// (and nowhere else), the home page then ranks by it and says why, and the shopper's switch turns that off.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

let browser;
let context;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
});
after(async () => browser?.close());

async function open(path) {
  const page = await context.newPage();
  page.messages = [];
  page.requests = [];
  page.on("pageerror", (e) => page.messages.push(`pageerror: ${e.message}`));
  page.on("console", (m) => ["error", "warning"].includes(m.type()) && page.messages.push(`${m.type()}: ${m.text()}`));
  page.on("request", (r) => page.requests.push({ url: r.url(), method: r.method(), body: r.postData() }));
  await page.goto(new URL(path, BASE).href);
  return page;
}

const items = (page, selector = "loyalty-recommendations") => page.$$eval(`${selector} .rec-item`, (list) =>
  list.map((li) => ({ title: li.querySelector(".rec-title").textContent, reason: li.querySelector(".rec-reason").textContent })));

test("a product page lists what goes with its product, with reasons, and records the visit on the device only", async () => {
  const page = await open("product.html");
  await page.waitForSelector("loyalty-recommendations .rec-item", { timeout: 15000 });
  const list = await items(page);
  assert.equal(list.length, 4);
  assert.equal(await page.textContent("loyalty-recommendations h2"), "搭配推荐");
  assert.ok(list.some((i) => i.reason.startsWith("常与「明前西湖龙井 100g」一起购买")), JSON.stringify(list));
  assert.ok(!list.some((i) => i.title.startsWith("明前西湖龙井")), "never the page's own product");
  // The candidates were read once, bounded, for this product; nothing about the shopper was sent anywhere.
  const catalog = page.requests.filter((r) => r.url.includes("/v1/catalog"));
  assert.equal(catalog.length, 1);
  assert.match(catalog[0].url, /\/v1\/catalog\?limit=2000&format=columns&near=longjing$/);
  // Ranked in the shell's worker by the list's own module: the full widget is not downloaded for it.
  assert.ok(page.requests.some((r) => r.url.endsWith("/recs.wasm")), "the list's module");
  assert.ok(!page.requests.some((r) => /storefront_loyalty(_bg\.wasm|\.js)$/.test(r.url)), "no full widget for a list");
  assert.ok(!page.requests.some((r) => r.body?.includes("longjing")), "the history never leaves the device");
  const history = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.endsWith(":history")).map(([, v]) => JSON.parse(v)));
  assert.equal(history.length, 1);
  assert.deepEqual(history[0].events.map((e) => [e.productId, e.kind]), [["longjing", "view"]]);
  assert.deepEqual(page.messages, []);
  await page.close();
});

test("the home page then ranks by that visit and says so; the switch turns personalisation off", async () => {
  const page = await open("");
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector(".home-recommendations .rec-item", { timeout: 15000 });
  assert.equal(await page.textContent(".home-recommendations h2"), "为你推荐");
  const list = await items(page, ".home-recommendations");
  assert.ok(list[0].reason.startsWith("因为你浏览过「明前西湖龙井 100g」"), JSON.stringify(list));
  // Off: the note says so, the list is the same for everyone, and nothing more is recorded.
  await page.click(".home-recommendations input[role=switch]");
  await page.waitForFunction(() => document.querySelector(".home-recommendations").shadowRoot.querySelector(".note").textContent.startsWith("未开启个性化"));
  await page.waitForFunction(() => !document.querySelector(".home-recommendations").shadowRoot.querySelector(".rec-reason")?.textContent.startsWith("因为"));
  const off = await items(page, ".home-recommendations");
  // Popular and new products, the same for every shopper (the demo's seasonal products arrived last week).
  assert.ok(off.every((i) => ["热销商品", "新品上架"].some((r) => i.reason.startsWith(r))), JSON.stringify(off));
  assert.ok(off.some((i) => i.reason.startsWith("新品上架")), JSON.stringify(off));
  const product = await open("product.html");
  await product.waitForSelector("loyalty-recommendations .rec-item", { timeout: 15000 });
  const events = await product.evaluate(() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(":history"))[1]).events.length);
  assert.equal(events, 1, "a second visit with the switch off is not recorded");
  assert.equal(await product.$eval("loyalty-recommendations", (el) => el.shadowRoot.querySelector("input[role=switch]").checked), false);
  assert.deepEqual(page.messages, []);
  assert.deepEqual(product.messages, []);
  await product.close();
  await page.close();
});
