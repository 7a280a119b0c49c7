// Minifies the JavaScript a shopper downloads (the loader, the elements, wasm-bindgen's glue) with the oxc
// minifier that rolldown ships (a pinned dev dependency): whitespace, comments and local names go, exports and
// string literals stay. Used by package.mjs for pkg/ and by dist.mjs after it fills in the loader's hashes.
import { minifySync } from "rolldown/utils";

export function minify(name, code) {
  const result = minifySync(name, code, { module: true, compress: true, mangle: true });
  if (result.errors?.length) throw new Error(`minify ${name}: ${result.errors.map((e) => e.message).join("; ")}`);
  return result.code;
}
