// The npm package's types: the wasm API's generated declarations, and the elements.
export * from "./storefront_loyalty.js";
export { default } from "./storefront_loyalty.js";
import type { Client, ClientConfig, InitInput } from "./storefront_loyalty.js";

/** Settings the elements share; with a `createClient` config, or with `client` to share one made earlier. */
export type ElementsConfig = (ClientConfig | { client: Client }) & {
  /** "en" or "zh-CN"; default: the page's `lang`, else the browser's language. */
  locale?: string;
  /** The currency of prices on the page (ISO 4217); default: the program's. */
  currency?: string;
  /** Where a guest signs in (https:// URL or a path on the shop). */
  signInUrl?: string;
  /** Where a guest joins (https:// URL or a path on the shop). */
  joinUrl?: string;
};

/**
 * Loads the wasm (once), creates the page's client and registers `<loyalty-launcher>`, `<loyalty-panel>`,
 * `<loyalty-points>`, `<loyalty-cart-points>` and `<loyalty-recommendations>`. Resolves with the page's client.
 * Rejects with a `LoyaltyError` (code `invalid_config`) naming every wrong setting.
 */
export function defineElements(config?: ElementsConfig, wasm?: InitInput | Promise<InitInput>): Promise<Client>;

/** The page's client once `defineElements` has run, else `null`. */
export function pageClient(): Client | null;
