// The demo shop: product pages that ask the widget's headless API what each product and the cart earn, and a
// shopper panel with real numbers from the reference server (GET /v1/program, GET /v1/customers/me). Signing
// in as a demo shopper asks the server's demo-only route for the identity a real shop's server would render
// into its page; the secret never reaches the browser. Every string reaches the page through textContent.
import init, { validateProgram, pointsForProduct, pointsForCart, tierProgress, rewardsOverview } from "/pkg/storefront_loyalty.js";

let PRODUCTS = []; // from GET /v1/catalog, most popular first

const TEXT = {
  "zh-CN": {
    switchTo: "English", products: "商品", guest: "游客", signIn: "以演示会员登录：", pending: (n, d) => `${n} 积分将于 ${d} 到账`,
    expiring: (n, d) => `${n} 积分将于 ${d} 过期`, activity: "最近记录", join: "注册会员即可赚取积分", loyalty: "会员积分", add: "加入购物车", earn: (n) => `购买可得 ${n} 积分`,
    excluded: "此商品不参与积分", soldOut: "售罄", minimum: (m) => `（订单满 ${m} 可得）`, tier: "会员等级", toNext: (m, t) => `再消费 ${m} 升级为${t}`,
    top: "已是最高等级", keep: (m, d) => `${d} 前再消费 ${m} 可保级`, cart: "购物车", empty: "购物车是空的",
    cartEarn: (n) => `本单可得 ${n} 积分`, capped: "已达每单积分上限", rewards: "积分可兑换", balance: (n) => `可用积分 ${n}`,
    affordable: "现在可兑换：", next: (n, r) => `再得 ${n} 积分可兑换「${r}」`, none: "暂无可兑换奖励",
    error: "积分暂时无法显示", footer: "演示页面：积分由浏览器中的 WebAssembly 规则计算，与服务器发放一致。",
    parts: { base: "基础积分", tier: "会员加成", bonus: "商品奖励", campaign: "活动奖励", cap: "上限扣减" },
  },
  en: {
    switchTo: "中文", products: "Products", guest: "Guest", signIn: "Sign in as a demo shopper: ", pending: (n, d) => `${n} points available on ${d}`,
    expiring: (n, d) => `${n} points expire on ${d}`, activity: "Recent activity", join: "Join to earn points", loyalty: "Loyalty", add: "Add to cart", earn: (n) => `Earn ${n} points`,
    excluded: "This product earns no points", soldOut: "Sold out", minimum: (m) => ` (on orders from ${m})`, tier: "Your tier", toNext: (m, t) => `Spend ${m} more to reach ${t}`,
    top: "You are at the top tier", keep: (m, d) => `Spend ${m} by ${d} to keep your tier`, cart: "Cart", empty: "Your cart is empty",
    cartEarn: (n) => `This order earns ${n} points`, capped: "Per-order points cap reached", rewards: "Rewards", balance: (n) => `${n} points available`,
    affordable: "Redeemable now: ", next: (n, r) => `${n} more points for “${r}”`, none: "No rewards yet",
    error: "Points are unavailable right now", footer: "Demo page: points are computed in the browser by the same WebAssembly rules the server awards with.",
    parts: { base: "Base", tier: "Tier bonus", bonus: "Product bonus", campaign: "Campaign", cap: "Cap" },
  },
};

const NOW = () => Math.floor(Date.now() / 1000);
const SHOPPERS = ["demo-near-silver", "demo-gold", "demo-expiring", "demo-new"];

let locale = "zh-CN";
let program = null;
let me = null; // GET /v1/customers/me of the signed-in shopper, or null for a guest
const cart = new Map();

const $ = (id) => document.getElementById(id);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};
const money = (minor) => new Intl.NumberFormat(locale, { style: "currency", currency: "CNY" }).format(minor / 100);
const date = (t) => new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(new Date(t * 1000));
const tierName = (id) => program.tiers.find((t) => t.id === id)?.name[locale] ?? id;
const t = () => TEXT[locale];

function renderProducts() {
  const list = $("products");
  list.replaceChildren();
  for (const product of PRODUCTS) {
    const item = el("li");
    item.dataset.product = product.id;
    item.append(el("span", product.title[locale], "product-name"), el("span", money(product.price), "price"));
    const earn = el("span", "", "earn");
    try {
      const offer = { productId: product.id, categories: product.categories, tags: product.tags, price: product.price, currency: "CNY" };
      const result = pointsForProduct(program, offer, { now: NOW(), tierId: currentTier() });
      if (result.points === 0) {
        earn.textContent = t().excluded;
      } else {
        earn.textContent = t().earn(result.points);
        if (!result.minimumOrderMet) earn.append(el("small", t().minimum(money(result.minimumOrder))));
      }
    } catch (error) {
      console.error(error);
      earn.textContent = t().error;
    }
    const add = el("button", product.inStock ? t().add : t().soldOut);
    add.type = "button";
    add.disabled = !product.inStock;
    add.addEventListener("click", () => {
      cart.set(product.id, (cart.get(product.id) ?? 0) + 1);
      renderCart();
    });
    item.append(earn, add);
    list.append(item);
  }
}

function currentTier() {
  return me?.tier.currentTierId ?? null;
}

function renderTier() {
  const card = $("tier");
  card.replaceChildren(el("h3", t().tier));
  if (!me) {
    card.append(el("p", t().join, "muted"));
    return;
  }
  const tier = me.tier;
  card.append(el("p", tierName(tier.currentTierId)));
  const bar = el("div", undefined, "bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(Math.round(tier.progress * 100)));
  const fill = el("span");
  fill.style.width = `${tier.progress * 100}%`;
  bar.append(fill);
  card.append(bar);
  card.append(el("p", tier.nextTierId ? t().toNext(money(tier.remaining), tierName(tier.nextTierId)) : t().top, "muted"));
  if (tier.keep && tier.keep.needed > 0) card.append(el("p", t().keep(money(tier.keep.needed), date(tier.keep.by)), "muted"));
}

function renderCart() {
  const card = $("cart");
  card.replaceChildren(el("h3", t().cart));
  if (cart.size === 0) {
    card.append(el("p", t().empty, "muted"));
    return;
  }
  const lines = [...cart].map(([id, quantity]) => {
    const p = PRODUCTS.find((x) => x.id === id);
    return { productId: id, categories: p.categories, tags: p.tags, unitPrice: p.price, quantity };
  });
  const list = el("ul", undefined, "breakdown");
  for (const line of lines) {
    const p = PRODUCTS.find((x) => x.id === line.productId);
    list.append(el("li", `${p.title[locale]} × ${line.quantity}`));
  }
  card.append(list);
  try {
    const result = pointsForCart(program, { currency: "CNY", lines }, { now: NOW(), tierId: currentTier() });
    card.append(el("p", t().cartEarn(result.points), "earn"));
    if (!result.minimumOrderMet) card.append(el("p", t().minimum(money(result.minimumOrder)), "muted"));
    if (result.capped) card.append(el("p", t().capped, "muted"));
    const parts = el("ul", undefined, "breakdown");
    for (const part of result.components) parts.append(el("li", `${t().parts[part.kind]}: ${part.points}`));
    card.append(parts);
  } catch (error) {
    console.error(error);
    card.append(el("p", t().error));
  }
}

function renderRewards() {
  const card = $("rewards");
  card.replaceChildren(el("h3", t().rewards));
  if (!me) return;
  const balance = me.balance;
  card.append(el("p", t().balance(balance.available), "earn"));
  for (const p of balance.pending) card.append(el("p", t().pending(p.points, date(p.at)), "muted"));
  for (const p of balance.expiring) card.append(el("p", t().expiring(p.points, date(p.at)), "muted"));
  const overview = rewardsOverview(program, balance.available);
  const name = (id) => program.rewards.find((r) => r.id === id).name[locale];
  if (overview.affordable.length) card.append(el("p", t().affordable + overview.affordable.map(name).join(locale === "en" ? ", " : "、")));
  if (overview.next) card.append(el("p", t().next(overview.next.missing, name(overview.next.rewardId)), "muted"));
  if (!overview.affordable.length && !overview.next) card.append(el("p", t().none, "muted"));
  if (me.activity.length) {
    card.append(el("h3", t().activity));
    const list = el("ul", undefined, "breakdown");
    for (const a of me.activity.slice(0, 5)) list.append(el("li", `${date(a.at)} ${a.kind} ${a.points}`));
    card.append(list);
  }
}

function renderShoppers() {
  const bar = $("shoppers");
  bar.replaceChildren(el("span", t().signIn));
  for (const id of [null, ...SHOPPERS]) {
    const button = el("button", id ?? t().guest);
    button.type = "button";
    button.setAttribute("aria-pressed", String((me?.customerId ?? null) === id));
    button.addEventListener("click", () => signIn(id));
    bar.append(button);
  }
}

async function signIn(customer) {
  try {
    if (customer === null) {
      me = null;
    } else {
      const identity = await (await fetch(`/demo/identity?customer=${encodeURIComponent(customer)}`)).json();
      const response = await fetch("/v1/customers/me", { headers: { authorization: identity.authorization } });
      if (!response.ok) throw new Error(`customers/me: ${response.status}`);
      me = await response.json();
    }
    $("status").textContent = "";
  } catch (error) {
    console.error(error);
    me = null;
    $("status").textContent = t().error;
  }
  render();
}

function render() {
  document.documentElement.lang = locale;
  $("shop-name").textContent = program.name[locale];
  $("lang").textContent = t().switchTo;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t()[node.dataset.text];
  renderShoppers();
  renderTier();
  renderProducts();
  renderCart();
  renderRewards();
}

async function main() {
  try {
    await init();
    const response = await fetch("/v1/program");
    if (!response.ok) throw new Error(`program: ${response.status}`);
    program = validateProgram(await response.json());
    const catalog = await fetch("/v1/catalog");
    if (!catalog.ok) throw new Error(`catalog: ${catalog.status}`);
    PRODUCTS = (await catalog.json()).products.sort((a, b) => b.popularity - a.popularity || a.id.localeCompare(b.id));
    $("lang").addEventListener("click", () => {
      locale = locale === "zh-CN" ? "en" : "zh-CN";
      render();
    });
    const initial = new URLSearchParams(location.search).get("shopper");
    await signIn(SHOPPERS.includes(initial) ? initial : null);
    document.body.dataset.ready = "true";
  } catch (error) {
    // The shop page keeps working; the loyalty parts say they are unavailable.
    console.error("storefront-loyalty demo:", error);
    $("status").textContent = TEXT[locale].error;
  }
}

main();
