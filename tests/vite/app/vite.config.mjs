// The one setting the package needs, and only for `vite dev` before Vite 8: Vite 7's pre-bundling moves the
// glue into its cache, away from the .wasm its `new URL(..., import.meta.url)` points at. Vite 8 needs none.
export default {
  optimizeDeps: { exclude: ["storefront-loyalty"] },
  build: { target: "es2022" },
};
