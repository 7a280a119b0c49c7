// Type-checks the published .d.ts the way a front-end developer uses it (tsc --strict, no emit):
// if the generated declarations stop being valid TypeScript, or the README's usage stops fitting them,
// `make test` fails.
import init, {
  validateProgram, pointsForProduct, pointsForCart, tierProgress, rewardsOverview, createClient,
  parseReferralCode, qrCodeSvg, type ShareIntent, type Attribution, type Recommendation,
  type ProgramInput, type Program, type EarnResult, type TierProgress, type RewardsOverview, type LoyaltyError,
  type ClientState, type Redemption, type ShopperState, type LoyaltyAdapter,
} from "../../pkg/storefront_loyalty.js";

export async function headless(identity: { customerId: string; timestamp: number; digest: string }): Promise<string> {
  await init();
  const client = createClient({ apiBase: "https://shop.example/loyalty", identity, timeoutMs: 8000 });
  const unsubscribe = client.subscribe((state: ClientState, event) => {
    if (event.type === "error") console.warn(event.error?.code);
    document.title = `${state.status} ${state.shopper?.balance.available ?? 0}`;
  });
  const state: ClientState = await client.ready();
  const earned: EarnResult = client.pointsForProduct({ productId: "tea", price: 12800, currency: "CNY" });
  const tier: TierProgress | null = client.tierProgress();
  let code = "";
  try {
    const redemption: Redemption = await client.redeem("ten-off");
    code = redemption.code;
    const { birthday }: { birthday: string } = await client.setBirthday("08-31");
    code += birthday;
    const waiting: "redeem" | "birthday" | "referral" | undefined = client.state().outbox[0]?.kind;
    const intent: ShareIntent = client.shareIntent({ channel: "whatsapp", page: "/tea" });
    const landed: Attribution | null = client.referral();
    code += intent.url ?? intent.link + (landed?.code ?? "") + (client.state().referral?.expiresAt ?? 0);
    code += parseReferralCode("7kq2-m9xj") + qrCodeSvg(intent.link, "high").length;
    const tracked: boolean = client.track({ productId: "longjing", kind: "view", dwellSeconds: 30 });
    const list: Recommendation[] = await client.recommend({ context: "product", productId: "longjing", limit: 4 });
    code += list.map((r) => `${r.title} ${r.reasons[0]?.kind} ${r.points ?? 0}`).join() + tracked;
    client.setPersonalised(false);
    client.forgetHistory();
    code += client.state().personalisation.events;
    code += waiting ?? "";
  } catch (e) {
    code = (e as LoyaltyError).code;
  }
  unsubscribe();
  client.destroy();
  return `${state.status} ${earned.points} ${tier?.remaining ?? 0} ${code}`;
}

export function customBackend(program: ProgramInput, shopper: ShopperState): void {
  const adapter: LoyaltyAdapter = {
    program: async () => program,
    shopper: async () => shopper,
    redeem: async ({ rewardId }) => ({ id: "1", rewardId, cost: 500, code: "X", createdAt: 0 }),
  };
  createClient({ adapter, identity: null }).destroy();
  createClient({ memory: { program, shopper }, cache: false }).destroy();
}

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

// The elements, as the README's npm snippet uses them.
import { defineElements, pageClient, type ElementsConfig } from "../../pkg/index.js";

export async function elements(): Promise<void> {
  const config: ElementsConfig = { apiBase: "https://shop.example/loyalty", locale: "zh-CN", joinUrl: "/account/register" };
  const client = await defineElements(config);
  const other = createClient({ apiBase: "https://other.example/loyalty" });
  const badge = document.querySelector("loyalty-points") as (HTMLElement & { client: typeof other }) | null;
  if (badge) badge.client = other;
  document.addEventListener("loyalty:redeem", (event) => console.log((event as CustomEvent<{ code: string }>).detail.code));
  console.log(client.state().status, pageClient()?.state().status);
}
