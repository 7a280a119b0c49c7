/** Unix time in whole seconds, UTC. */
export type Timestamp = number;
/** An ISO 4217 code such as "CNY", "USD", "JPY". */
export type CurrencyCode = string;
/** Text per locale: `{ "en": "Gold", "zh-CN": "黄金会员" }`. */
export type LocalizedText = Record<string, string>;

/** A loyalty program as written (defaults may be left out). `validateProgram` returns a {@link Program}. */
export interface ProgramInput {
  version: 1;
  currency: CurrencyCode;
  locales: string[];
  name: LocalizedText;
  earn: EarnRulesInput;
  lifecycle?: Partial<PointsLifecycle>;
  tierQualification?: Partial<TierQualification>;
  tiers?: TierInput[];
  rewards?: Reward[];
}

/** A validated program with every default filled in. */
export interface Program extends ProgramInput {
  earn: EarnRules;
  lifecycle: PointsLifecycle;
  tierQualification: TierQualification;
  tiers: Tier[];
  rewards: Reward[];
}

export interface EarnRulesInput {
  /** `points` per `perAmount` minor units of the base currency: 1 point per ¥1 is `{ points: 1, perAmount: 100 }`. */
  rate: EarnRate;
  rounding?: Rounding;
  roundingScope?: RoundingScope;
  basis?: Partial<EarnBasis>;
  bonuses?: Bonus[];
  campaigns?: Campaign[];
  exclusions?: Partial<ProductMatch>;
  maxPointsPerOrder?: number | null;
  minimumOrder?: number | null;
}

export interface EarnRules extends EarnRulesInput {
  rounding: Rounding;
  roundingScope: RoundingScope;
  basis: EarnBasis;
  bonuses: Bonus[];
  campaigns: Campaign[];
  exclusions: ProductMatch;
}

export interface EarnRate {
  points: number;
  perAmount: number;
}

export type Rounding = "floor" | "nearest" | "ceil";
export type RoundingScope = "order" | "line";

export interface EarnBasis {
  afterDiscounts: boolean;
  includeTax: boolean;
  includeShipping: boolean;
}

export interface ProductMatch {
  productIds: string[];
  categories: string[];
  tags: string[];
}

export interface Bonus {
  id: string;
  name: LocalizedText;
  appliesTo: Partial<ProductMatch>;
  /** Percentage of base points earned in total (200 = double). */
  multiplierPercent?: number | null;
  extraPointsPerUnit?: number | null;
}

export interface Campaign {
  id: string;
  name: LocalizedText;
  startsAt: Timestamp;
  /** Exclusive. */
  endsAt: Timestamp;
  multiplierPercent: number;
  /** Absent: the whole order. */
  appliesTo?: Partial<ProductMatch> | null;
}

export interface PointsLifecycle {
  pendingDays: number;
  expiry: Expiry;
  expiringSoonDays: number;
}

export interface Expiry {
  mode: "never" | "afterEarning" | "afterInactivity";
  months: number;
}

export interface TierQualification {
  metric: TierMetric;
  period: TierPeriod;
  sources: EarnSource[];
}

export type TierMetric = "spend" | "pointsEarned" | "orders";

export interface TierPeriod {
  kind: "lifetime" | "calendarYear" | "rollingMonths";
  months: number;
  startsAt?: Timestamp | null;
  endsAt?: Timestamp | null;
}

export type EarnSource = "purchase" | "referral" | "birthday" | "signup" | "review" | "adjustment";

export interface TierInput {
  id: string;
  name: LocalizedText;
  threshold: number;
  earnMultiplierPercent?: number;
  benefits?: LocalizedText[];
}

export interface Tier extends TierInput {
  earnMultiplierPercent: number;
  benefits: LocalizedText[];
}

export interface Reward {
  id: string;
  name: LocalizedText;
  kind: "amountOff" | "percentOff" | "freeShipping" | "freeProduct";
  cost: number;
  amountOff?: number | null;
  percentOff?: number | null;
  productId?: string | null;
  minimumOrder?: number | null;
}

export interface ExchangeRate {
  /** Minor units of the base currency ... */
  numerator: number;
  /** ... per this many minor units of the other currency. */
  denominator: number;
}

export interface ProductOffer {
  productId: string;
  variantId?: string | null;
  categories?: string[];
  tags?: string[];
  /** Unit price in minor units of `currency`. */
  price: number;
  currency: CurrencyCode;
  exchangeRate?: ExchangeRate | null;
  quantity?: number;
}

export interface CartLine {
  productId: string;
  variantId?: string | null;
  categories?: string[];
  tags?: string[];
  unitPrice: number;
  quantity: number;
  /** Total discount on the line, minor units. */
  discount?: number;
  tax?: number;
}

export interface Cart {
  currency: CurrencyCode;
  exchangeRate?: ExchangeRate | null;
  lines: CartLine[];
  orderDiscount?: number;
  shipping?: number;
}

export interface EarnContext {
  now: Timestamp;
  tierId?: string | null;
}

export interface Money {
  amount: number;
  currency: CurrencyCode;
}

export interface EarnComponent {
  kind: "base" | "tier" | "bonus" | "campaign" | "cap";
  id: string | null;
  points: number;
}

export interface EarnResult {
  points: number;
  components: EarnComponent[];
  eligibleAmount: Money;
  minimumOrder: number | null;
  minimumOrderMet: boolean;
  capped: boolean;
}

export interface QualifyingEvent {
  at: Timestamp;
  source: EarnSource;
  spend?: number;
  points?: number;
  orders?: number;
}

export interface TierActivity {
  events?: QualifyingEvent[];
  retainedTierId?: string | null;
}

export interface TierKeep {
  needed: number;
  by: Timestamp;
}

export interface TierProgress {
  metric: TierMetric;
  value: number;
  currentTierId: string | null;
  nextTierId: string | null;
  remaining: number;
  /** In [0, 1]. */
  progress: number;
  periodEndsAt: Timestamp | null;
  keep: TierKeep | null;
}

export interface RewardsOverview {
  affordable: string[];
  next: { rewardId: string; missing: number } | null;
  blocked: boolean;
}

/** Thrown by every function on bad input. */
export interface LoyaltyError extends Error {
  name: "LoyaltyError";
  code: "invalid_program" | "invalid_input" | "internal";
  problems?: { path: string; message: string }[];
}
