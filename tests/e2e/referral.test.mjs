// End-to-end referrals on the demo shop against the reference server: the QR codes decode (jsQR over a
// canvas rasterisation of the SVG) to the exact link, ASCII and not, at every error correction level; a
// friend lands with shopper A's link, signs up, orders, the server pays both, and A's panel shows it; a
// tampered code is refused in the browser; A opening their own link attributes nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const JSQR = readFileSync(new URL("../../node_modules/jsqr/dist/jsQR.js", import.meta.url), "utf8");
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
});
after(async () => browser?.close());

// A page in its own context (its own storage, as another visitor's browser), recording console warnings
// and errors and every referral capture sent.
async function visit(url) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.messages = [];
  page.captures = [];
  page.on("pageerror", (e) => page.messages.push(`pageerror: ${e.message}`));
  page.on("console", (m) => ["error", "warning"].includes(m.type()) && page.messages.push(`${m.type()}: ${m.text()}`));
  page.on("request", (r) => r.url().endsWith("/v1/referrals/capture") && page.captures.push(r.postData()));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15000 });
  return page;
}

const panel = (page, selector) => page.locator(`loyalty-panel ${selector}`);
const attribution = (page) => page.evaluate(async () => (await import("/pkg/elements.js")).pageClient().referral());
const serverState = (page, customer) => page.evaluate(async (c) => {
  const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(c)}`)).json();
  return (await fetch("/v1/customers/me", { headers: { authorization: signed.authorization } })).json();
}, customer);

// Rasterises SVG markup onto a canvas (`pixels` square) and reads it with jsQR.
async function decode(page, svg, pixels = 360) {
  await page.evaluate(JSQR);
  return page.evaluate(async ([markup, size]) => {
    const image = new Image();
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0, size, size);
    const { data } = context.getImageData(0, 0, size, size);
    const found = window.jsQR(data, size, size, { inversionAttempts: "dontInvert" });
    return found && { text: found.data, bytes: found.binaryData };
  }, [svg, pixels]);
}

test("QR codes decode to the exact link, ASCII and non-ASCII, at every error correction level", async () => {
  const page = await visit(BASE);
  const links = [
    `${ORIGIN}/?ref=22222222&utm_source=wechat&utm_medium=referral&utm_campaign=referral`,
    "https://茶与豆.example/茶/龙井?ref=7KQ2M9XJ&留言=你好，朋友",
  ];
  for (const link of links) {
    for (const level of ["low", "medium", "quartile", "high"]) {
      const svg = await page.evaluate(async ([text, l]) => {
        const wasm = await import("/pkg/storefront_loyalty.js");
        await wasm.default();
        return wasm.qrCodeSvg(text, l);
      }, [link, level]);
      const found = await decode(page, svg);
      assert.ok(found, `${level}: ${link} was not found`);
      assert.equal(found.text, link, level);
      assert.deepEqual(found.bytes, [...Buffer.from(link, "utf8")], `${level}: the exact UTF-8 bytes`);
    }
  }
  // A link too long for any QR code is refused with the field named.
  const refused = await page.evaluate(async () => {
    const wasm = await import("/pkg/storefront_loyalty.js");
    try { wasm.qrCodeSvg("x".repeat(3000), "high"); return null; } catch (e) { return `${e.code}: ${e.message}`; }
  });
  assert.equal(refused, "invalid_input: invalid input: text: is too long for a QR code (3000 bytes)");
  assert.deepEqual(page.messages, []);
  await page.context().close();
});

test("a friend lands with A's link, signs up and orders; both are rewarded and A's panel shows it", async () => {
  const a = await visit(`${BASE}?shopper=demo-near-silver`);
  await panel(a, ".referral input.link").waitFor();
  const copyLink = await panel(a, ".referral input.link").getAttribute("value");
  const code = new URL(copyLink).searchParams.get("ref");
  assert.equal(copyLink, `${ORIGIN}/?ref=${code}&utm_source=copy&utm_medium=referral&utm_campaign=referral`);
  // The panel's QR code carries the WeChat link.
  const svg = await panel(a, ".referral .qr svg").evaluate((node) => new XMLSerializer().serializeToString(node));
  assert.equal((await decode(a, svg))?.text, copyLink.replace("utm_source=copy", "utm_source=wechat"));
  const before = (await serverState(a, "demo-near-silver")).referral;

  // A tampered link: refused in the browser, nothing kept, nothing sent.
  const wrong = ALPHABET[(ALPHABET.indexOf(code[7]) + 1) % ALPHABET.length];
  const tampered = await visit(copyLink.replace(`ref=${code}`, `ref=${code.slice(0, 7)}${wrong}`));
  await tampered.click("#new-shopper");
  await panel(tampered, ".balance").waitFor();
  assert.equal(await attribution(tampered), null);
  assert.deepEqual(tampered.captures, []);
  assert.ok(tampered.messages.some((m) => m.includes("the referral code in this page's link is refused")), tampered.messages.join("\n"));
  await tampered.context().close();

  // The friend: a guest learns what joining gives, signs up (the code is sent once), and orders.
  const friend = await visit(copyLink);
  assert.equal((await attribution(friend))?.code, code);
  assert.equal(await panel(friend, ".join .invited").textContent(), "好友邀请你加入：注册后首单满 ¥50.00 可得 100 积分。");
  const captured = friend.waitForResponse((r) => r.url().endsWith("/v1/referrals/capture"));
  await friend.click("#new-shopper");
  assert.equal((await captured).status(), 200);
  await friend.waitForFunction(async () => (await import("/pkg/elements.js")).pageClient().referral() === null);
  assert.deepEqual(friend.captures, [JSON.stringify({ code })]);
  await friend.click(`.products li[data-product="longjing"] button`);
  const paid = friend.waitForResponse((r) => r.url().endsWith("/demo/orders"));
  await friend.click("#place-order");
  const order = await (await paid).json();
  assert.deepEqual(order.referral, { referrerPoints: 500, friendPoints: 100, refused: null });
  assert.equal(await friend.textContent("#order-result"), "已下单，获得 168 积分");
  // The order's 168 points are pending for the program's 7 days, like any purchase; the friend's 100 wait out
  // the referral's 30-day return window (a refund inside it takes them back), so they come later.
  await friend.waitForFunction(() => {
    const pending = [...document.querySelector("loyalty-panel").shadowRoot.querySelectorAll(".pending")];
    return pending.length === 2 && pending[0].textContent.startsWith("168 积分") && pending[1].textContent.startsWith("100 积分");
  });
  assert.match(await panel(friend, ".activity-list").textContent(), /邀请奖励/);
  assert.deepEqual(friend.messages, []);
  await friend.context().close();

  // A sees the reward after a refresh, as the server counts it.
  const after = (await serverState(a, "demo-near-silver")).referral;
  assert.deepEqual(
    [after.invited - before.invited, after.rewarded - before.rewarded, after.pointsEarned - before.pointsEarned],
    [1, 1, 500],
  );
  await a.evaluate(async () => (await import("/pkg/elements.js")).pageClient().refresh());
  await a.waitForFunction((n) => document.querySelector("loyalty-panel").shadowRoot.querySelector(".referral-counts")?.textContent.includes(`已获得 ${n} 积分`), after.pointsEarned);
  assert.match(await panel(a, ".referral-counts").textContent(), new RegExp(`${after.rewarded} 位好友已下单`));
  assert.deepEqual(a.messages, []);
  await a.context().close();
});

test("a shopper opening their own link attributes nothing and the server refuses it anyway", async () => {
  const a = await visit(`${BASE}?shopper=demo-gold`);
  await panel(a, ".referral input.link").waitFor();
  const link = await panel(a, ".referral input.link").getAttribute("value");
  const own = await visit(`${link}&shopper=demo-gold`);
  await panel(own, ".referral input.link").waitFor();
  assert.equal(await attribution(own), null);
  assert.deepEqual(own.captures, []);
  // Sent by hand, the server refuses it too.
  const refused = await own.evaluate(async (code) => {
    const signed = await (await fetch("/demo/identity?customer=demo-gold")).json();
    const response = await fetch("/v1/referrals/capture", {
      method: "POST",
      headers: { authorization: signed.authorization, "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
      body: JSON.stringify({ code }),
    });
    return [response.status, (await response.json()).error.code];
  }, new URL(link).searchParams.get("ref"));
  assert.deepEqual(refused, [409, "own_referral_code"]);
  assert.deepEqual(own.messages.filter((m) => !m.includes("409")), []);
  await own.context().close();
  await a.context().close();
});
