// The demo shop around the widget: a product list (each product with a <loyalty-points> badge), a cart
// (with <loyalty-cart-points>), the shopper's account (<loyalty-panel>), and a launcher added by the script
// tag. The buttons sign in demo shoppers the way a single-page shop would after a login: the server's
// demo-only route signs an identity (the secret never reaches the browser) and the page hands it to the
// widget's client. "New shopper" signs up someone new (a friend who came with a referral link is credited
// then), and "Place order" plays the shop's server paying an order (the demo-only /demo/orders route sends
// it through the order webhook's handling). Every string reaches the page through textContent.
import { pageClient, whenClient } from "/pkg/elements.js";

const TEXT = {
  "zh-CN": {
    switchTo: "English", products: "商品", account: "我的会员", cart: "购物车", guest: "游客", signIn: "以演示会员登录：",
    add: "加入购物车", soldOut: "售罄", empty: "购物车是空的", productPage: "商品详情页",
    newShopper: "新会员注册", order: "下单（演示）", ordered: (p) => `已下单，获得 ${p} 积分`, orderFailed: "下单失败",
    footer: "演示页面：积分由浏览器中的 WebAssembly 规则计算，与服务器发放一致。",
  },
  en: {
    switchTo: "中文", products: "Products", account: "My membership", cart: "Cart", guest: "Guest", signIn: "Sign in as a demo shopper: ",
    add: "Add to cart", soldOut: "Sold out", empty: "Your cart is empty", productPage: "Product page",
    newShopper: "New shopper signs up", order: "Place order (demo)", ordered: (p) => `Order paid: ${p} points earned`, orderFailed: "The order failed",
    footer: "Demo page: points are computed in the browser by the same WebAssembly rules the server awards with.",
  },
};
const SHOPPERS = ["demo-near-silver", "demo-gold", "demo-expiring", "demo-new"];

let products = []; // from the demo-only GET /demo/products (the whole catalog, sold out too), most popular first
let shopper = null;
const cart = new Map();

const $ = (id) => document.getElementById(id);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};
const locale = () => document.documentElement.lang;
const t = () => TEXT[locale()];
const money = (minor) => new Intl.NumberFormat(locale(), { style: "currency", currency: "CNY" }).format(minor / 100);

function renderProducts() {
  const list = $("products");
  list.replaceChildren();
  for (const product of products) {
    const item = el("li");
    item.dataset.product = product.id;
    const badge = document.createElement("loyalty-points");
    badge.setAttribute("product-id", product.id);
    badge.setAttribute("price", String(product.price));
    badge.setAttribute("categories", product.categories.join(","));
    if (product.tags.length) badge.setAttribute("tags", product.tags.join(","));
    const add = el("button", product.inStock ? t().add : t().soldOut);
    add.type = "button";
    add.disabled = !product.inStock;
    add.addEventListener("click", () => {
      cart.set(product.id, (cart.get(product.id) ?? 0) + 1);
      renderCart();
    });
    item.append(el("span", product.title[locale()], "product-name"), el("span", money(product.price), "price"), badge, add);
    list.append(item);
  }
}

function renderCart() {
  const lines = [...cart].map(([id, quantity]) => {
    const p = products.find((x) => x.id === id);
    return { productId: id, categories: p.categories, tags: p.tags, unitPrice: p.price, quantity };
  });
  $("cart-lines").replaceChildren(
    ...(lines.length ? lines.map((l) => el("li", `${products.find((p) => p.id === l.productId).title[locale()]} × ${l.quantity}`)) : [el("li", t().empty)]),
  );
  $("cart-points").cart = { currency: "CNY", lines };
  const order = $("place-order");
  order.textContent = t().order;
  order.disabled = !lines.length || shopper === null;
}

async function placeOrder() {
  const lines = [...cart].map(([productId, quantity]) => ({ productId, quantity }));
  const response = await fetch("/demo/orders", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ customerId: shopper, lines }),
  });
  const result = await response.json().catch(() => ({}));
  $("order-result").textContent = response.ok ? t().ordered(result.points) : t().orderFailed;
  if (response.ok) {
    cart.clear();
    renderCart();
    await pageClient().refresh().catch(() => {});
  }
}

function renderShoppers() {
  const bar = $("shoppers");
  bar.replaceChildren(el("span", t().signIn));
  for (const id of [null, ...SHOPPERS]) {
    const button = el("button", id ?? t().guest);
    button.type = "button";
    button.setAttribute("aria-pressed", String(shopper === id));
    button.addEventListener("click", () => signIn(id));
    bar.append(button);
  }
  const fresh = el("button", t().newShopper);
  fresh.type = "button";
  fresh.id = "new-shopper";
  fresh.addEventListener("click", () => signIn(`shopper-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`));
  bar.append(fresh);
}

async function signIn(customer) {
  const client = await whenClient();
  shopper = customer;
  if (customer === null) {
    client.signOut();
  } else {
    const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(customer)}`)).json();
    client.setIdentity({ customerId: signed.customerId, timestamp: signed.timestamp, digest: signed.digest });
  }
  renderShoppers();
  renderCart();
}

function render() {
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t()[node.dataset.text];
  $("lang").textContent = t().switchTo;
  renderShoppers();
  renderProducts();
  renderCart();
}

async function main() {
  $("place-order").addEventListener("click", () => placeOrder().catch((e) => console.error("demo:", e)));
  $("lang").addEventListener("click", () => {
    document.documentElement.lang = locale() === "zh-CN" ? "en" : "zh-CN";
    render();
  });
  const catalog = await fetch("/demo/products");
  if (catalog.ok) {
    products = (await catalog.json()).products.sort((a, b) => b.popularity - a.popularity || a.id.localeCompare(b.id));
  }
  render();
  const initial = new URLSearchParams(location.search).get("shopper");
  await signIn(SHOPPERS.includes(initial) ? initial : null);
  await pageClient().ready().catch(() => {});
  document.body.dataset.ready = "true";
}

main().catch((error) => console.error("demo:", error));
