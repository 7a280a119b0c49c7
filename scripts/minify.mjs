// What the script tag ships is written here: the JavaScript minified (the loader, the elements, wasm-bindgen's
// glue) with the oxc minifier that rolldown ships (a pinned dev dependency; whitespace, comments and local names
// go, exports and string literals stay), and the loader's list of the files it brings in with their SRI hashes.
// Used by package.mjs for pkg/ and by dist.mjs for dist/.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { minifySync } from "rolldown/utils";

export function minify(name, code) {
  const result = minifySync(name, code, { module: true, compress: true, mangle: true });
  if (result.errors?.length) throw new Error(`minify ${name}: ${result.errors.map((e) => e.message).join("; ")}`);
  return result.code;
}

export const sri = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;

// js/loader.js with its FILES line naming these files ({ shellWasm, glue, elements, wasm: [name, bytes] }) and
// their hashes, and the shell's glue (wasm-bindgen's no-modules output, which defines `wasm_bindgen`) at its
// head as the function `shellGlue` that returns a fresh copy (the loader runs it on the page, or puts its source
// into the shell's worker), minified.
export function loader(files, shellGlue) {
  if (!/^let wasm_bindgen = /m.test(shellGlue)) throw new Error("the shell's glue must be wasm-bindgen's no-modules output");
  const glue = `function shellGlue() {\n${shellGlue}\nreturn wasm_bindgen;\n}`;
  const source = `${glue}\n${readFileSync(new URL("../js/loader.js", import.meta.url), "utf8")}`;
  const line = /^const FILES = .*;$/m;
  if (!line.test(source)) throw new Error("js/loader.js: the `const FILES = ...;` line is gone; the sources changed");
  const list = Object.fromEntries(Object.entries(files).map(([key, [name, bytes]]) => [key, [`./${name}`, sri(bytes)]]));
  return minify("loader.js", source.replace(line, `const FILES = ${JSON.stringify(list)};`));
}
