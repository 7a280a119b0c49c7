// What a front-end developer writes: the package from npm, no plugin, the in-memory backend.
import { defineElements, createClient, pointsForProduct } from "storefront-loyalty";

const program = {
  version: 1, currency: "CNY", locales: ["en"], name: { en: "Vite club" },
  earn: { rate: { points: 1, perAmount: 100 } },
  rewards: [{ id: "ten-off", name: { en: "¥10 off" }, kind: "amountOff", cost: 500, amountOff: 1000 }],
};
const shopper = {
  customerId: "vite-shopper", balance: { available: 640, pending: [], expiring: [], expired: 0, lifetimeEarned: 640 },
  tier: null, rewards: { affordable: ["ten-off"], next: null, blocked: false },
  referral: null, activity: [], codes: [], asOf: 1767225600,
};
const identity = { customerId: "vite-shopper", timestamp: 1767225600, digest: "a".repeat(64) };

const client = await defineElements({ memory: { program, shopper }, identity, locale: "en" });
await client.ready();
// A second, independent client and a headless function, from the same import.
const other = createClient({ memory: { program } });
await other.ready();
const earned = pointsForProduct(program, { productId: "mug", price: 9900, currency: "CNY" }, { now: 1767225600 });
document.querySelector("#headless").textContent = `${other.state().status} ${earned.points}`;
other.destroy();
document.body.dataset.ready = "true";
