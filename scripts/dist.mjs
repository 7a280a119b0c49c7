// `make dist`: the files a merchant hosts or a CDN serves, from pkg/ (run scripts/build.sh first), with
// versioned names so a new release never mixes with a cached old one: the loader, the elements, the glue
// and the wasm side by side in dist/. Prints each file's size (raw and gzipped) and its SRI hash, and the
// script tag to paste. The loader holds the other files' hashes and checks each before it runs.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { loader as loaderWith, sri } from "./minify.mjs";

const pkg = new URL("../pkg/", import.meta.url);
const dist = new URL("../dist/", import.meta.url);
const read = (name) => readFileSync(new URL(name, pkg));
const { version } = JSON.parse(read("package.json"));
const base = `storefront-loyalty-${version}`;
const names = {
  loader: `${base}.js`,
  shellWasm: `${base}-shell.wasm`,
  recsWasm: `${base}-recs.wasm`,
  elements: `${base}-elements.js`,
  glue: `${base}-glue.js`,
  wasm: `${base}.wasm`,
};
const replaceOnce = (text, from, to) => {
  if (!text.includes(from)) throw new Error(`dist: "${from}" not found; the sources changed`);
  return text.split(from).join(to);
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
// Leaves first, as each file names the one before it: the glue the wasm, the loader all three with their
// hashes.
const wasm = read("storefront_loyalty_bg.wasm");
const glue = Buffer.from(replaceOnce(read("storefront_loyalty.js").toString(), "storefront_loyalty_bg.wasm", names.wasm));
// The elements import nothing (the loader hands them the glue), so they are copied as they are.
const elements = read("elements.js");
const shellWasm = read("shell_bg.wasm");
const recsWasm = read("recs.wasm");
// The shell's glue goes inside the loader, which names the shell's wasm itself.
const loader = loaderWith({
  shellWasm: [names.shellWasm, shellWasm],
  recsWasm: [names.recsWasm, recsWasm],
  glue: [names.glue, glue],
  elements: [names.elements, elements],
  wasm: [names.wasm, wasm],
}, read("shell.js").toString());
const files = [
  [names.loader, Buffer.from(loader)],
  [names.shellWasm, shellWasm],
  [names.recsWasm, recsWasm],
  [names.elements, elements],
  [names.glue, glue],
  [names.wasm, wasm],
];
let raw = 0;
let gz = 0;
console.log(`dist/ (storefront-loyalty ${version}); sizes gzipped with -9`);
for (const [name, bytes] of files) {
  writeFileSync(new URL(name, dist), bytes);
  // Precompressed copies for a server that sends them as they are (nginx's gzip_static and brotli_static, the
  // reference server's ServeDir): nothing compressed per request, and the best ratio.
  writeFileSync(new URL(`${name}.gz`, dist), gzipSync(bytes, { level: 9 }));
  writeFileSync(new URL(`${name}.br`, dist), brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  const zipped = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gz += zipped;
  console.log(`  ${name.padEnd(40)} ${String(bytes.length).padStart(8)} B  ${String(zipped).padStart(7)} B gz  ${sri(bytes)}`);
}
console.log(`  ${"total".padEnd(40)} ${String(raw).padStart(8)} B  ${String(gz).padStart(7)} B gz`);
console.log(`\nPaste into the shop's layout (serve the five files from one directory; CORS if on another origin):`);
console.log(`<script type="module" src="https://cdn.example/${names.loader}" integrity="${sri(Buffer.from(loader))}" crossorigin="anonymous"\n        data-api-base="https://shop.example/loyalty"></script>`);
