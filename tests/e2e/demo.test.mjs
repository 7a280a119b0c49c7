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

const earnTexts = () => page.$$eval(".products .earn", (nodes) => nodes.map((n) => n.textContent));

test("a guest sees what products earn, exclusions included, and no balance", async () => {
  const texts = await earnTexts();
  // Longjing ¥128: 128 base + 128 green-tea bonus + 256 winter campaign.
  assert.equal(texts[0], "购买可得 512 积分");
  assert.equal(texts[3], "此商品不参与积分");
  assert.equal(await page.textContent("#rewards"), "积分可兑换");
  assert.deepEqual(errors, []);
});

test("a signed-in shopper sees the server's numbers and earns with their tier", async () => {
  await page.click("#shoppers button:has-text('demo-gold')");
  await page.waitForFunction(() => document.querySelector("#tier")?.textContent.includes("黄金会员"));
  // Gold earns 1.5x base: 128 + 64 + 128 + 256.
  assert.equal((await earnTexts())[0], "购买可得 576 积分");
  assert.match(await page.textContent("#rewards"), /可用积分 \d+/);
  assert.deepEqual(errors, []);
});

test("switching to English re-renders every text", async () => {
  await page.click("#lang");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal((await earnTexts())[0], "Earn 576 points");
  assert.match(await page.textContent("#tier"), /Gold/);
  await page.click("#lang");
});

test("the cart earns the sum of its parts", async () => {
  await page.click(".products li:nth-child(3) button"); // gaiwan ¥89: 89 base + 44 gold + 20 bonus
  await page.click(".products li:nth-child(4) button"); // gift card: nothing
  const cartText = await page.textContent("#cart");
  assert.match(cartText, /本单可得 153 积分/);
  assert.deepEqual(errors, []);
});
