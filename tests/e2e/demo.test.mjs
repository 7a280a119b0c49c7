// End-to-end: the demo shop in real headless Chromium against the reference server in demo mode. The page
// loads the release build and the program from the server, shows what each product earns (tier, bonuses,
// campaigns and exclusions counted), signs in demo shoppers with server-signed identities, switches between
// zh-CN and en, and computes the cart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

let browser;
let page;
const errors = [];

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(BASE);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15000 });
});

after(async () => browser?.close());

const earn = (id) => page.textContent(`.products li[data-product="${id}"] .earn`);

test("a guest sees what every catalog product earns, every rule counted", async () => {
  assert.equal(await page.$$eval(".products li", (items) => items.length), 60);
  assert.equal(await earn("longjing"), "购买可得 168 积分"); // ¥168 at 1 point per ¥1
  assert.equal(await earn("yirgacheffe"), "购买可得 196 积分"); // single-origin: double
  assert.equal(await earn("dahongpao"), "购买可得 594 积分"); // winter campaign: triple
  assert.equal(await earn("gift-card-100"), "此商品不参与积分"); // excluded
  assert.equal(await page.textContent('.products li[data-product="geisha"] button'), "售罄");
  assert.equal(await page.textContent("#rewards"), "积分可兑换");
  assert.deepEqual(errors, []);
});

test("a signed-in shopper sees the server's numbers and earns with their tier", async () => {
  await page.click("#shoppers button:has-text('demo-gold')");
  await page.waitForFunction(() => document.querySelector("#tier")?.textContent.includes("黄金会员"));
  assert.equal(await earn("longjing"), "购买可得 252 积分"); // Gold: 1.5x base
  assert.match(await page.textContent("#rewards"), /可用积分 \d+/);
  assert.deepEqual(errors, []);
});

test("points about to expire are shown", async () => {
  await page.click("#shoppers button:has-text('demo-expiring')");
  await page.waitForFunction(() => document.querySelector("#rewards")?.textContent.includes("过期"));
  assert.match(await page.textContent("#rewards"), /\d+ 积分将于 .+ 过期/);
  await page.click("#shoppers button:has-text('demo-gold')");
  await page.waitForFunction(() => document.querySelector("#tier")?.textContent.includes("黄金会员"));
});

test("switching to English re-renders every text", async () => {
  await page.click("#lang");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await earn("longjing"), "Earn 252 points");
  assert.match(await page.textContent("#tier"), /Gold/);
  await page.click("#lang");
});

test("the cart earns the sum of its parts", async () => {
  await page.click('.products li[data-product="gaiwan"] button'); // ¥89: 89 base + 44 gold + 20 teaware bonus
  await page.click('.products li[data-product="gift-card-100"] button'); // excluded
  assert.match(await page.textContent("#cart"), /本单可得 153 积分/);
  assert.deepEqual(errors, []);
});
