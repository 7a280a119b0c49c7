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
  /** Points on the shopper's birthday, once a year; absent when the program gives none. */
  birthday?: BirthdayGiftInput;
  /** Referral terms; absent when the program has no referrals. */
  referral?: ReferralTermsInput;
}

/** The referral terms as written (README, "Referrals"). */
export interface ReferralTermsInput {
  /** The page friends land on: an absolute `https://` URL of the shop, or a path such as `"/"` on the page's origin. */
  landingUrl: string;
  /** The query parameter that carries the code (default `"ref"`). */
  param?: string;
  /** `utm_campaign` of every link (default `"referral"`). */
  campaign?: string;
  /** Points for the referrer when a friend's first qualifying order is paid. */
  referrerPoints: number;
  /** Points for the friend on that order (default 0). */
  friendPoints?: number;
  /** The smallest qualifying spend of that order, base currency minor units (default 1). */
  minimumOrder?: number;
  /** A refund within this many days that takes the order below the minimum reverses both rewards (default 30). */
  returnWindowDays?: number;
  /** How long a landing's attribution is kept in the browser; the first one wins (default 30). */
  attributionDays?: number;
  /** At most this many rewarded referrals per referrer in `capDays` days; 0 for no cap (default 0). */
  capRewards?: number;
  /** The cap's period in days (default 30). */
  capDays?: number;
  /** The message shared with the link, per locale. */
  message: LocalizedText;
  /** The e-mail subject per locale (default: the program's name). */
  emailSubject?: LocalizedText | null;
  /** QR code error correction (default `"medium"`). */
  qrLevel?: QrLevel;
}

/** QR code error correction: about 7%, 15%, 25% or 30% of the code may be damaged. */
export type QrLevel = "low" | "medium" | "quartile" | "high";

/** Referral terms with every default filled in. */
export interface ReferralTerms extends ReferralTermsInput {
  param: string;
  campaign: string;
  friendPoints: number;
  minimumOrder: number;
  returnWindowDays: number;
  attributionDays: number;
  capRewards: number;
  capDays: number;
  emailSubject: LocalizedText | null;
  qrLevel: QrLevel;
}

/** The birthday gift as written. */
export interface BirthdayGiftInput {
  /** Points given each year on the day (00:00 UTC; 29 February falls on the 28th in common years). */
  points: number;
  /** A birthday given fewer than this many days before it falls earns from the next year (default 30). */
  minDaysKnown?: number;
}

/** A validated program with every default filled in. */
export interface Program extends ProgramInput {
  earn: EarnRules;
  lifecycle: PointsLifecycle;
  tierQualification: TierQualification;
  tiers: Tier[];
  rewards: Reward[];
  birthday?: Required<BirthdayGiftInput>;
  referral?: ReferralTerms;
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

/** The stable codes of a `LoyaltyError`. */
export type LoyaltyErrorCode =
  | "invalid_program" | "invalid_input" | "invalid_config" | "internal" | "not_ready" | "busy"
  | "offline" | "timeout" | "unauthorized" | "rate_limited" | "server_error" | "refused"
  | "invalid_response" | "response_too_large" | "adapter_failed" | "not_completed" | "not_signed_in"
  | "destroyed";

/** Thrown (or rejected) by every function and method. */
export interface LoyaltyError extends Error {
  name: "LoyaltyError";
  code: LoyaltyErrorCode;
  /** Every problem with its path, for bad input, bad config and unreadable answers. */
  problems?: { path: string; message: string }[];
  /** The HTTP status, when the backend answered with an error. */
  status?: number;
}

/** The shopper's identity, signed by the shop's server (never by the browser). */
export interface Identity {
  customerId: string;
  /** Unix seconds when the shop's server signed it. */
  timestamp: number;
  /** Hex HMAC-SHA256 of `shopId \n customerId \n timestamp` with the shop's secret. */
  digest: string;
}

/** A custom backend: async functions with the contract's shapes (see the README). */
export interface LoyaltyAdapter {
  program(request: { etag?: string }): ProgramInput | Promise<ProgramInput>;
  shopper(request: { identity: Identity }): ShopperState | Promise<ShopperState>;
  redeem(request: { rewardId: string; idempotencyKey: string; identity: Identity }): Redemption | Promise<Redemption>;
  /** Optional: without it, `setBirthday` rejects with `status` 501 naming the missing function. */
  setBirthday?(request: { birthday: string; idempotencyKey: string; identity: Identity }):
    { birthday: string } | Promise<{ birthday: string }>;
  /** Optional: records who referred the signed-in shopper; without it, a landing's code stays in `referral()`. */
  captureReferral?(request: { code: string; idempotencyKey: string; identity: Identity }):
    { referredBy: string } | Promise<{ referredBy: string }>;
  /** Optional: the recommendation candidates (the popular products and the `near` products' neighbours). */
  catalog?(request: { etag?: string; near: string[] }): { products: CatalogProduct[] } | Promise<{ products: CatalogProduct[] }>;
}

/** `createClient`'s settings: exactly one of `apiBase`, `adapter` and `memory`. */
export interface ClientConfig {
  /** The backend's absolute base URL, e.g. "https://shop.example/loyalty". */
  apiBase?: string;
  adapter?: LoyaltyAdapter;
  /** An in-memory backend (tests, previews, the offline demo). */
  memory?: { program: ProgramInput; shopper?: ShopperState; catalog?: CatalogProduct[] };
  /** The signed-in shopper; omit for a guest. */
  identity?: Identity | null;
  /** Extra headers on every request (not for secrets: they are in the page). */
  headers?: Record<string, string>;
  /** Endpoint paths for a backend with its own API. */
  paths?: { program?: string; shopper?: string; redemptions?: string; birthday?: string; referral?: string; catalog?: string };
  /** Per request, default 10000 (100 to 120000). */
  timeoutMs?: number;
  /** Answers above this are refused unread, default 2000000 (1000 to 50000000). */
  maxResponseBytes?: number;
  /** Scopes the local cache (default: the apiBase). */
  cacheKey?: string;
  /** false keeps nothing in localStorage. */
  cache?: boolean;
  /** Read retries: attempts (default 4), first and largest backoff ceilings in ms (500, 30000). */
  retry?: { attempts?: number; baseMs?: number; capMs?: number };
  /** How many popular products the recommendation candidates hold (default 2000, 0 to 5000). */
  catalogLimit?: number;
  /** Keep a history for recommendations only after `setConsent(true)` (default false). */
  requireConsent?: boolean;
  /** Interest in a viewed or bought product halves every this many days (default 14, 1 to 365). */
  historyHalfLifeDays?: number;
  /**
   * Whether `loyalty:redeem` carries the discount code and `loyalty:copy` the text copied (default true).
   * Every listener on the document hears these events (tag managers, analytics); false keeps codes out.
   */
  codesInEvents?: boolean;
}

/** A product as `GET /v1/catalog` sends it. */
export interface CatalogProduct {
  id: string;
  title: LocalizedText;
  /** A path on the shop or an https:// URL. */
  url: string;
  image?: string | null;
  /** Minor units of the program's currency. */
  price: number;
  categories?: string[];
  tags?: string[];
  inStock?: boolean;
  /** When the shop added it, UTC seconds: products added in the last 30 days are "new". */
  addedAt?: Timestamp | null;
  /** Percentile by recent units sold: 0 (none) to 100 (the best seller). */
  popularity?: number;
  /** Products often bought with this one, strongest first. */
  neighbours?: string[];
  /** Per neighbour, the share of this product's orders that also held it, in permille. */
  neighbourWeights?: number[];
}

export type RecommendContext = "home" | "product" | "cart";

/** `client.recommend`'s request. */
export interface RecommendRequest {
  context?: RecommendContext;
  /** The product on the page (never recommended itself). */
  productId?: string | null;
  /** The cart's product ids (never recommended). */
  cart?: string[];
  /** The page's category, for a shopper without history. */
  category?: string | null;
  /** 1 to 50, default 10. */
  limit?: number;
  exclude?: string[];
  /** Recommend products bought before (consumables). */
  repurchase?: boolean;
  /** Titles in this locale (default: the page's language). */
  locale?: string | null;
}

/** Why a product is recommended; the fields a kind names are present. */
export interface RecommendationReason {
  kind: "boughtWith" | "viewed" | "similar" | "popular" | "popularIn" | "bonusPoints" | "reachesTier" | "reachesReward" | "boughtBefore" | "new";
  productId?: string;
  category?: string;
  /** Points as a percent of the base rate (`bonusPoints`). */
  percent?: number;
  tierId?: string;
  rewardId?: string;
}

export interface Recommendation {
  productId: string;
  title: string;
  url: string;
  image: string | null;
  price: number;
  currency: CurrencyCode | null;
  /** Points this shopper earns buying one. */
  points: number | null;
  /** The main reason first. */
  reasons: RecommendationReason[];
}

/** `RecommendationIndex.recommend`'s answer: a product id, its score (only the order means anything) and why. */
export interface RankedProduct {
  productId: string;
  score: number;
  points?: number;
  reasons: RecommendationReason[];
}

/** `RecommendationIndex.recommend`'s request: as `client.recommend`'s, without a locale, and with the switch. */
export type RankRequest = Omit<RecommendRequest, "locale"> & { personalised?: boolean };

/** One event of a shopper's history. */
export interface HistoryEvent {
  productId: string;
  kind: "view" | "cart" | "purchase";
  at: Timestamp;
  dwellSeconds?: number;
}

/** What the shopper did, for `client.track`. */
export interface TrackEvent {
  productId: string;
  kind: "view" | "cart" | "purchase";
  /** UTC seconds; default now. */
  at?: Timestamp;
  /** For a view: seconds on the page. */
  dwellSeconds?: number;
}

export type SyncStatus = "loading" | "fresh" | "stale" | "offline" | "error";

export interface DatedPoints {
  points: number;
  at: Timestamp;
}

export interface BalanceView {
  available: number;
  pending: DatedPoints[];
  expiring: DatedPoints[];
  expired: number;
  lifetimeEarned: number;
}

export interface ReferralStanding {
  /** The shopper's code (8 characters, the last a check character). */
  code: string;
  /** Friends who signed up with it. */
  invited: number;
  /** Friends whose first qualifying order rewarded the shopper (reversed rewards not counted). */
  rewarded: number;
  /** Points earned from referrals, reversals deducted. */
  pointsEarned: number;
}

export interface Activity {
  at: Timestamp;
  kind: "earn" | "redeem" | "reverse" | "adjust";
  points: number;
  source: EarnSource | null;
  orderId: string | null;
  reason: string | null;
}

export interface IssuedCode {
  code: string;
  rewardId: string;
  createdAt: Timestamp;
  used: boolean;
}

/** The shopper's state as the backend computed it (`GET /v1/customers/me`). */
export interface ShopperState {
  customerId: string;
  programVersion: number;
  balance: BalanceView;
  tier: TierProgress | null;
  rewards: RewardsOverview;
  referral: ReferralStanding | null;
  birthday: string | null;
  activity: Activity[];
  codes: IssuedCode[];
  asOf: Timestamp;
}

/** A redemption: the points are spent and the code is ready. */
export interface Redemption {
  id: string;
  rewardId: string;
  cost: number;
  code: string;
  createdAt: Timestamp;
}

/** A write in the outbox. */
export interface PendingWrite {
  key: string;
  kind: "redeem" | "birthday" | "referral";
  /** For a redemption; `""` otherwise. */
  rewardId: string;
  /** For a birthday, `MM-DD`; `""` otherwise. */
  birthday: string;
  /** For a referral capture, the friend's code; `""` otherwise. */
  code: string;
  customerId: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  attempts: number;
  /**
   * `checking`: saved over 3 days ago, never sent again; the next read of the shopper's state settles it.
   * `expired`: not found in that state; the shopper's activity shows what happened.
   */
  status: "sending" | "waiting" | "checking" | "expired";
}

/** `client.state()`. */
export interface ClientState {
  status: SyncStatus;
  error: { code: LoyaltyErrorCode; message: string; status: number | null } | null;
  signedIn: boolean;
  customerId: string | null;
  program: Program | null;
  shopper: ShopperState | null;
  outbox: PendingWrite[];
  /** When the backend last answered, milliseconds since the epoch. */
  updatedAt: number | null;
  /** The friend's referral link that brought this browser, until it is recorded for a signed-in shopper. */
  referral: Attribution | null;
  /** The shopper's choices and this device's history for recommendations. */
  personalisation: { personalised: boolean; consent: boolean | null; recording: boolean; events: number };
}

/** A referral link this browser landed with (first touch), kept until it expires or is recorded. */
export interface Attribution {
  /** The friend's referral code, its check character verified. */
  code: string;
  /** Milliseconds since the epoch. */
  landedAt: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Where a referral link is shared; each has its own `utm_source`. */
export type ShareChannel = "copy" | "native" | "email" | "whatsapp" | "x" | "facebook" | "line" | "weibo" | "wechat";

/** `client.shareIntent`'s request. */
export interface ShareRequest {
  channel: ShareChannel;
  /** A path of this site to link to instead of the program's landing page. */
  page?: string | null;
  /** The message's locale; default: the page's language. */
  locale?: string | null;
}

/** What sharing the shopper's referral link on one channel does. */
export interface ShareIntent {
  channel: ShareChannel;
  /** The referral link with this channel's UTM parameters. */
  link: string;
  /** The program's message in the locale. */
  text: string;
  /** The e-mail subject (and the share sheet's title). */
  title: string;
  /** The URL that opens the channel's share page; `null` for copy, the share sheet and WeChat (use the QR code). */
  url: string | null;
}

export interface ClientEvent {
  type: "change" | "error";
  error?: LoyaltyError;
}

/** The settings every element of the page shares (`defineElements` takes them beside the client's config). */
export interface ElementSettingsInput {
  /** "en" or "zh-CN"; default: the page's `lang`, else the browser's language. */
  locale?: string | null;
  /** The ISO 4217 currency of prices on the page; default: the program's. */
  currency?: string | null;
  /** Where a guest signs in: an https:// URL or a path on the shop. */
  signInUrl?: string | null;
  /** Where a guest joins: an https:// URL or a path on the shop. */
  joinUrl?: string | null;
}
