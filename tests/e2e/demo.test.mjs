// End-to-end: the demo shop in real headless Chromium. The page loads the release build, shows what each
// product earns (bonuses and exclusions counted), switches between zh-CN and en, and computes the cart.
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

const earnTexts = () => page.$$eval(".products .earn", (nodes) => nodes.map((n) => n.textContent));

test("product pages show every rule: tier multiplier, bonus, campaign, exclusion", async () => {
  const texts = await earnTexts();
  // Longjing ¥128 for a Silver shopper (1.25x): 128 base + 32 tier + 128 green-tea bonus + 256 winter campaign.
  assert.equal(texts[0], "购买可得 544 积分");
  // The gift card is excluded.
  assert.equal(texts[3], "此商品不参与积分");
  assert.deepEqual(errors, []);
});

test("switching to English re-renders every text", async () => {
  await page.click("#lang");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  const texts = await earnTexts();
  assert.equal(texts[0], "Earn 544 points");
  assert.match(await page.textContent("#tier"), /Silver/);
  await page.click("#lang");
});

test("the cart earns the sum of its parts", async () => {
  await page.click(".products li:nth-child(3) button"); // gaiwan ¥89: 89 base + 22 tier + 20 bonus
  await page.click(".products li:nth-child(4) button"); // gift card: nothing
  const cartText = await page.textContent("#cart");
  assert.match(cartText, /本单可得 131 积分/);
  assert.deepEqual(errors, []);
});
