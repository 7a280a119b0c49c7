// The npm package's entry: the wasm API (headless functions, createClient, init) and the elements.
export * from "./storefront_loyalty.js";
export { default } from "./storefront_loyalty.js";
export { defineElements, pageClient } from "./elements.js";
