// Type-checks the published .d.ts the way a front-end developer uses it (tsc --strict, no emit):
// if the generated declarations stop being valid TypeScript, or the README's usage stops fitting them,
// `make test` fails.
import init, {
  validateProgram, pointsForProduct, pointsForCart, tierProgress, rewardsOverview,
  type ProgramInput, type Program, type EarnResult, type TierProgress, type RewardsOverview, type LoyaltyError,
} from "../../pkg/storefront_loyalty.js";

export async function example(config: ProgramInput): Promise<string> {
  await init();
  const program: Program = validateProgram(config);
  const now = Math.floor(Date.now() / 1000);
  const earned: EarnResult = pointsForProduct(program,
    { productId: "longjing", categories: ["green-tea"], price: 12800, currency: "CNY" }, { now, tierId: "silver" });
  const kinds: string[] = earned.components.map((c) => c.kind);
  const cart: EarnResult = pointsForCart(program, {
    currency: "USD", exchangeRate: { numerator: 36, denominator: 5 },
    lines: [{ productId: "cup", unitPrice: 1000, quantity: 3 }], shipping: 500,
  }, { now });
  const tier: TierProgress = tierProgress(program, { events: [{ at: now, source: "purchase", spend: 100 }] }, now);
  const rewards: RewardsOverview = rewardsOverview(program, 420);
  try {
    validateProgram({ ...config, version: 1 });
  } catch (e) {
    const error = e as LoyaltyError;
    return `${error.code} ${error.problems?.map((p) => p.path).join()}`;
  }
  return `${earned.points} ${kinds} ${cart.minimumOrderMet} ${tier.progress} ${rewards.next?.missing ?? 0}`;
}
