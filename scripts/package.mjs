// Turns wasm-pack's output in pkg/ into the npm package and the script-tag files: copies the elements, the
// loader and the entry beside the glue, and writes a package.json with name, version, exports, types and
// files; minifies what a shopper downloads (the loader, the elements, the glue). Run after
// `wasm-pack build --target web --release` (scripts/build.sh does both).
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { loader, minify } from "./minify.mjs";

const pkg = new URL("../pkg/", import.meta.url);
const js = new URL("../js/", import.meta.url);
for (const [from, to] of [
  ["elements.js", "elements.js"],
  ["index.js", "index.js"],
  ["index.d.ts", "index.d.ts"],
]) {
  copyFileSync(new URL(from, js), new URL(to, pkg));
}
// About 7 KB of the 237 KB gzipped: the glue alone goes from 11.8 to 6.8 KB.
for (const name of ["elements.js", "storefront_loyalty.js"]) {
  const file = new URL(name, pkg);
  writeFileSync(file, minify(name, readFileSync(file, "utf8")));
}
// The loader, holding the hashes of what it brings in, so pkg/ (the demo, the npm package's script tag) is
// checked like dist/.
const bytes = (name) => readFileSync(new URL(name, pkg));
const files = {
  shellWasm: "shell_bg.wasm",
  recsWasm: "recs.wasm",
  glue: "storefront_loyalty.js",
  elements: "elements.js",
  wasm: "storefront_loyalty_bg.wasm",
};
const listed = Object.fromEntries(Object.entries(files).map(([key, name]) => [key, [name, bytes(name)]]));
// The shell's glue (pkg/shell.js, wasm-bindgen's no-modules output) goes inside the loader: no file of its own
// for a page to fetch and check (js/loader.js).
writeFileSync(new URL("storefront-loyalty.js", pkg), loader(listed, bytes("shell.js").toString()));
// Compressed copies beside what a shopper downloads, which the reference server sends to a browser that takes
// them (`Accept-Encoding`; ServeDir's precompressed files): the wasm crosses the network at 224 KB, not 529 KB,
// and the server compresses nothing per request. Integrity hashes cover the decoded bytes, so they still hold.
for (const name of ["storefront-loyalty.js", ...Object.values(files)]) {
  const bytes = readFileSync(new URL(name, pkg));
  writeFileSync(new URL(`${name}.gz`, pkg), gzipSync(bytes, { level: 9 }));
  writeFileSync(
    new URL(`${name}.br`, pkg),
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
  );
}
const generated = JSON.parse(readFileSync(new URL("package.json", pkg), "utf8"));
const manifest = {
  name: "storefront-loyalty",
  version: generated.version,
  description: generated.description,
  license: generated.license,
  repository: generated.repository,
  type: "module",
  main: "./index.js",
  module: "./index.js",
  types: "./index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", default: "./index.js" },
    "./loader": "./storefront-loyalty.js",
    "./storefront_loyalty_bg.wasm": "./storefront_loyalty_bg.wasm",
    "./package.json": "./package.json",
  },
  files: [
    "index.js",
    "index.d.ts",
    "elements.js",
    "storefront-loyalty.js",
    "storefront_loyalty.js",
    "storefront_loyalty.d.ts",
    "storefront_loyalty_bg.wasm",
    "storefront_loyalty_bg.wasm.d.ts",
    "shell_bg.wasm",
    "recs.wasm",
  ],
  // Importing the loader starts the widget; everything else is free of side effects.
  sideEffects: ["./storefront-loyalty.js"],
  keywords: ["loyalty", "rewards", "points", "webassembly", "web-components", "ecommerce"],
};
writeFileSync(new URL("package.json", pkg), JSON.stringify(manifest, null, 2) + "\n");
console.log(`pkg/: storefront-loyalty@${manifest.version} (npm package and script-tag files)`);
