// The npm package in a plain Vite app, as a developer would use it: the package is packed with `npm pack`
// (so only its `files` ship) and unpacked into the app's node_modules; then `vite build` is served and
// loaded in Chromium, and `vite dev` is started and loaded too. Both must register the elements, load the
// wasm, render the panel and the badge, and run a headless function, with nothing in the console.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, readFileSync, existsSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join, extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { build, createServer } from "vite";
import { chromium } from "playwright-core";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const APP = fileURLToPath(new URL("./app", import.meta.url));
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

let browser;
let work;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "loyalty-vite-"));
  const tarball = execFileSync("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", work, "--silent"], { encoding: "utf8" }).trim();
  const installed = join(APP, "node_modules", "storefront-loyalty");
  rmSync(installed, { recursive: true, force: true });
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", join(work, tarball), "-C", installed, "--strip-components=1"]);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
});

after(async () => {
  await browser?.close();
  rmSync(join(APP, "node_modules"), { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Loads the app and checks what a shopper and the developer see. */
async function check(url) {
  const page = await browser.newPage();
  const messages = [];
  page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  page.on("console", (m) => ["error", "warning"].includes(m.type()) && messages.push(`${m.type()}: ${m.text()}`));
  const wasm = [];
  page.on("response", (r) => r.url().endsWith(".wasm") && wasm.push(`${r.status()} ${r.headers()["content-type"]}`));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
  await page.waitForSelector("loyalty-panel .balance .points");
  assert.equal(await page.textContent("loyalty-panel .balance .points"), "640 points");
  assert.equal(await page.textContent("loyalty-points .badge"), "Earn 268 points");
  assert.equal(await page.textContent("#headless"), "fresh 99");
  assert.deepEqual(wasm, ["200 application/wasm"]);
  assert.deepEqual(messages, []);
  await page.close();
}

test("vite build: the wasm is emitted as an asset and the app works from the built files", async () => {
  const outDir = join(work, "dist");
  await build({ root: APP, configFile: false, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  const server = createHttpServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(outDir, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(outDir) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    response.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await check(`http://127.0.0.1:${server.address().port}/`);
  } finally {
    server.close();
  }
});

/** Starts `vite dev` on the app with the given config file (false: none at all) and checks the app. */
async function dev(configFile) {
  const server = await createServer({ root: APP, configFile, logLevel: "warn", server: { host: "127.0.0.1", port: 0 } });
  await server.listen();
  try {
    const { port } = server.httpServer.address();
    await check(`http://127.0.0.1:${port}/`);
  } finally {
    await server.close();
  }
}

test("vite dev, with no config at all: the pre-bundled package still finds its wasm", async () => {
  await dev(false);
});

test("vite dev, with the README's optimizeDeps.exclude (what Vite 7 needs): works the same", async () => {
  await dev(join(APP, "vite.config.mjs"));
});
