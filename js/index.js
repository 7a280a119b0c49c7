// The npm package's entry: the wasm API (headless functions, createClient, init) and the elements.
import * as glue from "./storefront_loyalty.js";
import { defineElementsWith } from "./elements.js";

export * from "./storefront_loyalty.js";
export { default } from "./storefront_loyalty.js";
export { pageClient } from "./elements.js";

/** Loads the wasm (once), creates the page's client and registers the elements (see elements.js). */
export function defineElements(config, wasm) {
  return defineElementsWith(glue, config, wasm);
}
