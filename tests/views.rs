//! Browser tests of the widget's views: each element mounted into a real shadow root with a client on the
//! in-memory backend. What a guest and a shopper see in both locales, the badge from attributes and from
//! JSON-LD (and its refusal of bad attributes), the cart badge, the redemption flow by clicks with its DOM
//! events, strings from the backend rendered as text, and a client swapped under an element.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Promise, Reflect, JSON};
use storefront_loyalty::{create_client, element_settings, Client, ElementSettings, Widget};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export const PROGRAM = {version: 1, currency: "CNY", locales: ["zh-CN", "en"],
  name: {"zh-CN": "会员俱乐部", en: "Members club"},
  earn: {rate: {points: 1, perAmount: 100}, minimumOrder: 1000,
         bonuses: [{id: "tea", name: {"zh-CN": "好茶", en: "Tea time"}, appliesTo: {categories: ["tea"]}, multiplierPercent: 200}],
         exclusions: {productIds: ["gift-card"]}},
  tiers: [{id: "member", name: {"zh-CN": "会员", en: "Member"}, threshold: 0, benefits: [{"zh-CN": "生日礼", en: "Birthday gift"}]},
          {id: "gold", name: {"zh-CN": "黄金", en: "Gold"}, threshold: 100000, earnMultiplierPercent: 150}],
  rewards: [{id: "ten-off", name: {"zh-CN": "立减10元", en: "10 off"}, kind: "amountOff", cost: 500, amountOff: 1000},
            {id: "big", name: {"zh-CN": "大礼", en: "Big gift"}, kind: "freeShipping", cost: 5000}],
  birthday: {points: 200}};
export function shopper(available) {
  return {customerId: "alice", balance: {available, pending: [{points: 120, at: 1893456000}], expiring: [{points: 80, at: 1893456000}], expired: 0, lifetimeEarned: available},
    tier: {metric: "spend", value: 25000, currentTierId: "member", nextTierId: "gold", remaining: 75000, progress: 0.25,
           keep: {needed: 0, by: 1924992000}},
    rewards: {affordable: available >= 500 ? ["ten-off"] : [], next: null, blocked: false},
    referral: {code: "ALICE7", invited: 3, rewarded: 1},
    activity: [{at: 1767225600, kind: "earn", points: 120, source: "purchase", orderId: "o1", reason: "<img src=x onerror=alert(1)>"}],
    codes: [], asOf: 1767225600};
}
export function mount(tag, attributes) {
  const host = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) host.setAttribute(k, v);
  document.body.append(host);
  return [host, host.attachShadow({mode: "open"})];
}
export function events(host) {
  const seen = [];
  for (const type of ["ready", "change", "redeem", "error", "open", "close", "birthday", "share", "copy", "recommendation-click"]) {
    host.addEventListener(`loyalty:${type}`, (e) => seen.push({type, detail: e.detail}));
  }
  return seen;
}
export function click(root, selector) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`no ${selector}`);
  el.click();
}
export function addJsonLd(text) {
  const s = document.createElement("script");
  s.type = "application/ld+json";
  s.textContent = text;
  document.head.append(s);
  return s;
}
export function choose(root, selector, value) {
  const el = root.querySelector(selector);
  el.value = value;
  el.dispatchEvent(new Event("change", {bubbles: true}));
}
export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
export function withReferral() {
  return {...PROGRAM, referral: {landingUrl: "/shop?x=1", referrerPoints: 500, friendPoints: 100, minimumOrder: 5000,
    message: {"zh-CN": "来买茶", en: "Come for tea"}, emailSubject: {"zh-CN": "送你积分", en: "Points for you"}}};
}
export function referrer() {
  return {...shopper(700), referral: {code: "22222222", invited: 3, rewarded: 1, pointsEarned: 500}};
}
// Links clicked in a test stay on the page.
export function stayOnPage(host) {
  host.addEventListener("click", (e) => { if (e.composedPath()[0].closest?.("a")) e.preventDefault(); });
}
export function canShare() { return typeof navigator.share === "function"; }
// A share sheet that records what it was given (resolving, as when the shopper picks an app).
export function fakeShareSheet() {
  const shared = [];
  Object.defineProperty(navigator, "share", { configurable: true, value: async (data) => { shared.push(data); } });
  return [shared, () => { delete navigator.share; }];
}
export function memoryWithCatalog() {
  const product = (id, zh, en, price, categories, popularity, neighbours = [], weights = []) =>
    ({id, title: {"zh-CN": zh, en}, url: `/p/${id}`, image: `/img/${id}.jpg`, price, categories, popularity, neighbours, neighbourWeights: weights});
  return {program: PROGRAM, shopper: shopper(700), catalog: [
    product("longjing", "龙井", "Longjing", 16800, ["tea"], 90, ["gaiwan", "cups"], [500, 300]),
    product("gaiwan", "盖碗", "Gaiwan", 12000, ["teaware"], 40),
    product("cups", "品茗杯", "Cups", 6000, ["teaware"], 30),
    product("oolong", "乌龙", "Oolong", 9000, ["tea"], 60),
    product("gift-card", "礼品卡", "Gift card", 10000, ["gifts"], 99),
  ]};
}
export function setQuery(query) { history.replaceState(null, "", location.pathname + query); }
export function warnings() {
  const seen = [];
  const original = console.warn;
  console.warn = (...args) => { seen.push(args.map(String).join(" ")); original(...args); };
  return [seen, () => { console.warn = original; }];
}
"#)]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = PROGRAM)]
    static PROGRAM: JsValue;
    fn shopper(available: f64) -> JsValue;
    fn mount(tag: &str, attributes: &JsValue) -> Array;
    fn events(host: &JsValue) -> Array;
    #[wasm_bindgen(catch)]
    fn click(root: &JsValue, selector: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = addJsonLd)]
    fn add_json_ld(text: &str) -> web_sys::Element;
    fn sleep(ms: u32) -> Promise;
    fn choose(root: &JsValue, selector: &str, value: &str);
    #[wasm_bindgen(js_name = withReferral)]
    fn with_referral() -> JsValue;
    fn referrer() -> JsValue;
    #[wasm_bindgen(js_name = stayOnPage)]
    fn stay_on_page(host: &JsValue);
    #[wasm_bindgen(js_name = canShare)]
    fn can_share() -> bool;
    #[wasm_bindgen(js_name = fakeShareSheet)]
    fn fake_share_sheet() -> Array;
    #[wasm_bindgen(js_name = setQuery)]
    fn set_query(query: &str);
    #[wasm_bindgen(js_name = memoryWithCatalog)]
    fn memory_with_catalog() -> JsValue;
    fn warnings() -> Array;
}

fn obj(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON parses")
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(target, &key.into(), value).expect("set");
}

/// A client on the memory backend; signed in as alice (with `available` points) or a guest.
async fn client(available: Option<f64>) -> Client {
    let _ = web_sys::window().expect("window").local_storage().map(|s| s.map(|s| s.clear()));
    client_of(PROGRAM.with(JsValue::clone), available.map(shopper)).await
}

/// A client on the memory backend with this program, signed in as `alice` (this state) or a guest.
async fn client_of(program: JsValue, alice: Option<JsValue>) -> Client {
    let memory = Object::new();
    set(&memory, "program", &program);
    let config = Object::new();
    if let Some(alice) = alice {
        set(&memory, "shopper", &alice);
        set(
            &config,
            "identity",
            &obj(
                r#"{"customerId": "alice", "timestamp": 1767225600, "digest": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#,
            ),
        );
    }
    set(&config, "memory", &memory);
    let client = create_client(config.into()).unwrap_or_else(|e| panic!("client: {:?}", JsValue::from(e)));
    JsFuture::from(client.ready()).await.expect("ready");
    client
}

fn settings(text: &str) -> ElementSettings {
    element_settings(obj(text)).unwrap_or_else(|e| panic!("settings: {:?}", JsValue::from(e)))
}

struct Mounted {
    host: web_sys::Element,
    root: web_sys::ShadowRoot,
    widget: Widget,
}

impl Mounted {
    fn new(kind: &str, tag: &str, attributes: &str, client: &Client, settings: &ElementSettings) -> Mounted {
        let pair = mount(tag, &obj(attributes));
        let host: web_sys::Element = pair.get(0).unchecked_into();
        let root: web_sys::ShadowRoot = pair.get(1).unchecked_into();
        let widget = Widget::new(kind, host.clone(), root.clone(), client, settings)
            .unwrap_or_else(|e| panic!("widget: {:?}", JsValue::from(e)));
        Mounted { host, root, widget }
    }

    fn text(&self, selector: &str) -> String {
        self.root
            .query_selector(selector)
            .expect("selector")
            .and_then(|e| e.text_content())
            .unwrap_or_else(|| format!("<no {selector}>"))
    }

    fn count(&self, selector: &str) -> u32 {
        self.root.query_selector_all(selector).expect("selector").length()
    }

    fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.root.query_selector(selector).expect("selector")?.get_attribute(name)
    }

    fn remove(self) {
        self.widget.destroy();
        self.host.remove();
    }
}

async fn pause(ms: u32) {
    JsFuture::from(sleep(ms)).await.expect("sleep");
}

#[wasm_bindgen_test]
async fn a_shopper_sees_balance_tier_rewards_referral_and_activity_in_both_locales() {
    let c = client(Some(700.0)).await;
    let zh = Mounted::new("panel", "loyalty-panel", r#"{"locale": "zh-CN"}"#, &c, &settings("{}"));
    assert_eq!(zh.text(".title"), "会员俱乐部");
    assert_eq!(zh.text(".balance .points"), "700 积分");
    assert!(zh.text(".pending").starts_with("120 积分 待到账"), "{}", zh.text(".pending"));
    assert!(zh.text(".expiring").contains("过期"));
    assert_eq!(zh.text(".tier-name"), "会员");
    assert_eq!(zh.text(".to-next"), "再消费 ¥750.00 即可升级为黄金");
    assert_eq!(zh.attr("[role=progressbar]", "aria-valuenow").as_deref(), Some("25"));
    assert_eq!(zh.attr("[role=progressbar]", "aria-valuetext").as_deref(), Some("距黄金已完成 25%"));
    assert_eq!(zh.attr(".fill", "width").as_deref(), Some("25"));
    assert!(zh.text(".keep").starts_with("会员有效期至"));
    assert_eq!(zh.text(".benefits"), "生日礼");
    // Affordable rewards have a redeem button; the others say what is missing.
    assert_eq!(zh.count("button[data-action=redeem]"), 1);
    assert_eq!(zh.text(".missing"), "还差 4,300 积分");
    assert_eq!(zh.text(".referral .code"), "ALICE7");
    // A string from the backend is text, never markup.
    assert!(zh.text(".activity-list").contains("<img src=x onerror=alert(1)>"));
    assert_eq!(zh.count("img"), 0);
    assert!(zh.text(".ways").contains("好茶：2 倍积分"));
    assert!(zh.text(".ways").contains("黄金享 1.5 倍积分"));

    let en = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    assert_eq!(en.text(".title"), "Members club");
    assert_eq!(en.text(".balance .points"), "700 points");
    assert_eq!(en.text(".to-next"), "Spend CN¥750.00 more to reach Gold");
    assert_eq!(en.text(".missing"), "4,300 more points needed");
    assert!(en.text(".referral").contains("3 friends joined · 1 friend ordered"));
    zh.remove();
    en.remove();
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_guest_sees_what_joining_gives_and_only_safe_links() {
    let c = client(None).await;
    let s = settings(
        r#"{"joinUrl": "/account/register", "signInUrl": "https://shop.example/login", "locale": "en"}"#,
    );
    let panel = Mounted::new("panel", "loyalty-panel", "{}", &c, &s);
    assert_eq!(panel.text(".join h3"), "Join Members club");
    assert_eq!(panel.attr(".join a.primary", "href").as_deref(), Some("/account/register"));
    assert_eq!(panel.attr(".join a.secondary", "href").as_deref(), Some("https://shop.example/login"));
    assert_eq!(panel.count("button[data-action=redeem]"), 0);
    assert!(panel.text(".tiers").contains("Birthday gift"));
    assert!(panel.text(".join").contains("200 points on your birthday"), "{}", panel.text(".join"));
    panel.remove();
    c.destroy();

    let error = JsValue::from(
        element_settings(obj(
            r#"{"joinUrl": "javascript:alert(1)", "signInUrl": "//evil.example", "locale": "fr"}"#,
        ))
        .expect_err("refused"),
    );
    let message = Reflect::get(&error, &"message".into()).expect("message").as_string().expect("string");
    assert_eq!(
        Reflect::get(&error, &"code".into()).expect("code").as_string().as_deref(),
        Some("invalid_config")
    );
    for part in
        ["locale: must be \"en\" or \"zh-CN\"", "joinUrl: must be a path on the shop", "signInUrl: must be"]
    {
        assert!(message.contains(part), "{message}");
    }
}

#[wasm_bindgen_test]
fn guest_links_that_would_leave_the_shop_are_refused_naming_the_setting() {
    // What a browser makes of each: "/\evil.example" and "/\t/evil.example" are "//evil.example".
    for (link, why) in [
        ("/\\evil.example", "must not contain a backslash"),
        ("\\\\evil.example", "must not contain a backslash"),
        ("/\\\\evil.example/login", "must not contain a backslash"),
        ("https://shop.example\\@evil.example/", "must not contain a backslash"),
        ("/\t/evil.example", "must not contain spaces or control characters"),
        ("/\n/evil.example", "must not contain spaces or control characters"),
        ("http://shop.example/login", "must be a path on the shop (/products/x) or an https:// URL"),
        ("//evil.example", "must be a path on the shop (/products/x) or an https:// URL"),
    ] {
        for setting in ["joinUrl", "signInUrl"] {
            let input = Object::new();
            Reflect::set(&input, &setting.into(), &link.into()).expect("set");
            let error = JsValue::from(element_settings(input.into()).expect_err(link));
            let message =
                Reflect::get(&error, &"message".into()).expect("message").as_string().expect("string");
            assert!(message.contains(&format!("{setting}: {why}")), "{link:?}: {message}");
        }
    }
}

#[wasm_bindgen_test]
async fn the_badge_follows_its_attributes_and_the_shoppers_tier() {
    let guest = client(None).await;
    let s = settings(r#"{"locale": "zh-CN"}"#);
    let badge = Mounted::new(
        "points",
        "loyalty-points",
        r#"{"product-id": "oolong", "price": "12800", "categories": "tea"}"#,
        &guest,
        &s,
    );
    assert_eq!(badge.text(".badge"), "购买可得 256 积分"); // the tea bonus doubles 128
    assert_eq!(badge.host.get_attribute("data-points").as_deref(), Some("256"));
    badge.host.set_attribute("quantity", "2").expect("set");
    badge.widget.attribute_changed();
    assert_eq!(badge.text(".badge"), "购买可得 512 积分");
    badge.host.set_attribute("product-id", "gift-card").expect("set");
    badge.widget.attribute_changed();
    assert_eq!(badge.text(".badge"), "此商品不参与积分");
    // Below the program's minimum order the badge says so.
    badge.host.set_attribute("price", "400").expect("set");
    badge.host.set_attribute("product-id", "sweet").expect("set");
    badge.host.remove_attribute("quantity").expect("set");
    badge.widget.attribute_changed();
    assert_eq!(badge.text(".badge"), "购买可得 8 积分（订单满 ¥10.00）");
    // A bad price hides the badge (the console names the attribute); a good one brings it back.
    badge.host.set_attribute("price", "12.80").expect("set");
    badge.widget.attribute_changed();
    assert_eq!(badge.attr(".badge", "hidden").as_deref(), Some(""));
    assert_eq!(badge.host.get_attribute("data-points"), None);
    badge.host.set_attribute("price", "1000").expect("set");
    badge.widget.attribute_changed();
    assert_eq!(badge.text(".badge"), "购买可得 20 积分");

    // A signed-in gold-tier shopper earns with the tier's multiplier, on another client set later.
    let gold_shopper = shopper(700.0);
    let tier = Reflect::get(&gold_shopper, &"tier".into()).expect("tier");
    set(&tier, "currentTierId", &"gold".into());
    let memory = Object::new();
    set(&memory, "program", &PROGRAM.with(JsValue::clone));
    set(&memory, "shopper", &gold_shopper);
    let config = Object::new();
    set(&config, "memory", &memory);
    set(
        &config,
        "identity",
        &obj(
            r#"{"customerId": "alice", "timestamp": 1767225600, "digest": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#,
        ),
    );
    let gold = create_client(config.into()).expect("client");
    JsFuture::from(gold.ready()).await.expect("ready");
    badge.widget.set_client(&gold);
    assert_eq!(badge.text(".badge"), "购买可得 25 积分"); // 10 base, 10 tea bonus, 5 for gold (1.5x base)
    badge.remove();
    guest.destroy();
    gold.destroy();
}

#[wasm_bindgen_test]
async fn the_badge_reads_schema_org_json_ld_and_the_cart_badge_its_lines() {
    let c = client(None).await;
    let s = settings(r#"{"locale": "en"}"#);
    let script = add_json_ld(
        r#"{"@context": "https://schema.org", "@graph": [{"@type": "WebPage"},
            {"@type": ["Product"], "sku": "LJ-1", "offers": [{"price": "168.5", "priceCurrency": "CNY"}]}]}"#,
    );
    let badge = Mounted::new("points", "loyalty-points", "{}", &c, &s);
    assert_eq!(badge.text(".badge"), "Earn 168 points");
    // A badge that found its product in the page's JSON-LD is on that product's page: the visit is kept on
    // the device for recommendations (once, however often the badge renders).
    badge.widget.attribute_changed();
    let events = |c: &Client| {
        Reflect::get(&Reflect::get(&c.state(), &"personalisation".into()).expect("p"), &"events".into())
            .ok()
            .and_then(|n| n.as_f64())
    };
    assert_eq!(events(&c), Some(1.0));
    badge.remove();
    script.remove();

    let cart = Mounted::new("cart-points", "loyalty-cart-points", "{}", &c, &s);
    assert_eq!(cart.text(".badge"), "", "an empty cart says nothing");
    cart.widget.set_cart(obj(
        r#"{"currency": "CNY", "lines": [{"productId": "oolong", "categories": ["tea"], "unitPrice": 5000, "quantity": 2},
                                         {"productId": "gift-card", "unitPrice": 10000, "quantity": 1}]}"#,
    ));
    assert_eq!(cart.text(".badge"), "This order earns 200 points");
    cart.host
        .set_attribute("lines", r#"[{"productId": "cup", "unitPrice": 2000, "quantity": 1}]"#)
        .expect("set");
    cart.widget.set_cart(JsValue::NULL);
    assert_eq!(cart.text(".badge"), "This order earns 20 points");
    cart.remove();
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_redemption_saved_days_ago_is_checked_not_sent_and_the_shopper_is_told() {
    // A redemption saved four days ago (past the 3-day resend window: its key may be gone on the server).
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).expect("localStorage");
    let _ = storage.clear();
    let four_days_ago = js_sys::Date::now() - 4.0 * 86_400_000.0;
    let entry = format!(
        r#"{{"key": "old", "kind": "redeem", "rewardId": "ten-off", "customerId": "alice", "createdAt": {four_days_ago}, "attempts": 1}}"#
    );
    storage.set_item("storefront-loyalty:1:memory:outbox:alice:old", &entry).expect("saved");
    let c = client_of(PROGRAM.with(JsValue::clone), Some(shopper(700.0))).await;
    let panel = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    pause(30).await;
    // Never sent: the memory backend would have redeemed it (a code, 500 points).
    assert_eq!(panel.text(".balance .points"), "700 points");
    assert_eq!(panel.count(".redeemed"), 0);
    // The shopper's state has no code for it since: the shopper is told, honestly, and sent to the activity.
    assert_eq!(
        panel.text("[part=error]"),
        "Redeeming 10 off could not be confirmed; check your activity before trying again."
    );
    let outbox = Reflect::get(&c.state(), &"outbox".into()).expect("outbox");
    let first = Reflect::get_u32(&outbox, 0).expect("the write");
    assert_eq!(
        Reflect::get(&first, &"status".into()).ok().and_then(|s| s.as_string()).as_deref(),
        Some("expired")
    );
    assert!(storage.get_item("storefront-loyalty:1:memory:outbox:alice:old").ok().flatten().is_none());
    panel.remove();
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_shop_can_keep_discount_codes_out_of_the_pages_events() {
    // Every listener on the document hears `loyalty:redeem` (tag managers, analytics): with
    // `codesInEvents: false` it says what was redeemed, not the code; nor does `loyalty:copy` carry it.
    let _ = web_sys::window().expect("window").local_storage().map(|s| s.map(|s| s.clear()));
    let memory = Object::new();
    set(&memory, "program", &PROGRAM.with(JsValue::clone));
    set(&memory, "shopper", &shopper(700.0));
    let config = obj(
        r#"{"identity": {"customerId": "alice", "timestamp": 1767225600, "digest": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "codesInEvents": false}"#,
    );
    set(&config, "memory", &memory);
    let c = create_client(config).unwrap_or_else(|e| panic!("client: {:?}", JsValue::from(e)));
    JsFuture::from(c.ready()).await.expect("ready");
    let seen = events(&web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()).expect("body"));
    let panel = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    click(&panel.root, "button[data-action=redeem]").expect("redeem button");
    click(&panel.root, "button[data-action=confirm]").expect("confirm");
    pause(30).await;
    assert_eq!(panel.text(".redeemed code"), "MEM-00001", "the shopper still sees it");
    // Nor does any attribute hold it (scripts read them along every click's path): only the text does. The
    // copy button carried it as its data-id and in its label before.
    let html = panel.root.inner_html();
    assert!(html.contains("MEM-00001"));
    assert!(html.match_indices("MEM-00001").all(|(i, _)| html[..i].ends_with('>')), "{html}");
    click(&panel.root, "button[data-action=copy-code]").expect("copy");
    pause(30).await;
    let details: Vec<String> = seen
        .iter()
        .filter(|e| {
            let kind = Reflect::get(e, &"type".into()).ok().and_then(|t| t.as_string());
            matches!(kind.as_deref(), Some("redeem" | "copy"))
        })
        .map(|e| {
            JSON::stringify(&Reflect::get(&e, &"detail".into()).expect("detail"))
                .map(String::from)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(details[0], r#"{"rewardId":"ten-off","cost":500}"#);
    assert!(details.iter().all(|d| !d.contains("MEM-00001")), "{details:?}");
    panel.remove();
    c.destroy();
    // Like every setting, a wrong value is refused by name.
    let error = JsValue::from(
        create_client(obj(r#"{"apiBase": "https://shop.example", "codesInEvents": "no"}"#))
            .err()
            .expect("refused"),
    );
    let message = Reflect::get(&error, &"message".into()).expect("message").as_string().expect("string");
    assert!(message.contains("codesInEvents: must be true or false"), "{message}");
}

#[wasm_bindgen_test]
async fn redeeming_asks_for_confirmation_then_shows_the_code_and_tells_the_page() {
    let c = client(Some(700.0)).await;
    // Events bubble out of the shadow root: the page hears them on the document.
    let seen = events(&web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()).expect("body"));
    let panel = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    click(&panel.root, "button[data-action=redeem]").expect("redeem button");
    assert_eq!(panel.text(".confirm p"), "Redeem 10 off for 500 points?");
    // Focus moved to the confirming button.
    assert_eq!(
        panel.root.active_element().and_then(|e| e.get_attribute("data-action")).as_deref(),
        Some("confirm")
    );
    click(&panel.root, "button[data-action=cancel]").expect("cancel");
    assert_eq!(panel.count(".confirm"), 0);
    click(&panel.root, "button[data-action=redeem]").expect("redeem again");
    click(&panel.root, "button[data-action=confirm]").expect("confirm");
    pause(30).await;
    assert_eq!(panel.text(".redeemed code"), "MEM-00001");
    assert_eq!(panel.text(".balance .points"), "200 points");
    assert_eq!(panel.text("[aria-live]"), "Your balance is now 200 points");
    let redeem: Vec<JsValue> = seen
        .iter()
        .filter(|e| {
            Reflect::get(e, &"type".into()).ok().and_then(|t| t.as_string()).as_deref() == Some("redeem")
        })
        .collect();
    assert_eq!(redeem.len(), 1);
    let detail = Reflect::get(&redeem[0], &"detail".into()).expect("detail");
    assert_eq!(
        JSON::stringify(&detail).expect("json").as_string().as_deref(),
        Some(r#"{"rewardId":"ten-off","code":"MEM-00001","cost":500}"#)
    );
    assert!(seen.iter().any(|e| Reflect::get(&e, &"type".into())
        .ok()
        .and_then(|t| t.as_string())
        .as_deref()
        == Some("ready")));
    panel.remove();
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_shopper_gives_their_birthday_once_and_sees_the_gift() {
    let c = client(Some(700.0)).await;
    let seen = events(&web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()).expect("body"));
    let panel = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    assert_eq!(panel.text(".birthday h3"), "Birthday gift");
    assert!(panel.text(".birthday").contains("Tell us your birthday and get 200 points on the day"));
    // Month names come from Intl; the day list has 31 days and a blank.
    assert_eq!(panel.text("select[data-action=birthday-month] option[value='8']"), "August");
    assert_eq!(panel.count("select[data-action=birthday-day] option"), 32);
    // Nothing chosen, or a day the month lacks: a message, and nothing is sent.
    click(&panel.root, "button[data-action=birthday]").expect("save");
    assert_eq!(panel.text(".birthday [role=alert]"), "Choose a month and a day that exists in it.");
    choose(&panel.root, "select[data-action=birthday-month]", "2");
    choose(&panel.root, "select[data-action=birthday-day]", "30");
    click(&panel.root, "button[data-action=birthday]").expect("save");
    assert_eq!(panel.count(".birthday [role=alert]"), 1);
    let outbox = Reflect::get(&c.state(), &"outbox".into()).expect("outbox");
    assert_eq!(outbox.unchecked_into::<Array>().length(), 0, "nothing sent for a day that does not exist");
    // 29 February exists: saved through the outbox, and the panel shows the gift's day.
    choose(&panel.root, "select[data-action=birthday-day]", "29");
    click(&panel.root, "button[data-action=birthday]").expect("save");
    assert_eq!(panel.text(".birthday .working"), "Saving…");
    pause(30).await;
    assert_eq!(panel.text(".birthday p"), "200 points on your birthday, February 29");
    assert_eq!(panel.count(".birthday select"), 0);
    assert_eq!(panel.text("[aria-live]"), "Your birthday is saved.");
    let shopper = Reflect::get(&c.state(), &"shopper".into()).expect("shopper");
    assert_eq!(
        Reflect::get(&shopper, &"birthday".into()).ok().and_then(|b| b.as_string()).as_deref(),
        Some("02-29")
    );
    let told: Vec<String> = seen
        .iter()
        .filter(|e| {
            Reflect::get(e, &"type".into()).ok().and_then(|t| t.as_string()).as_deref() == Some("birthday")
        })
        .filter_map(|e| JSON::stringify(&Reflect::get(&e, &"detail".into()).ok()?).ok()?.as_string())
        .collect();
    assert_eq!(told, vec![r#"{"birthday":"02-29"}"#.to_owned()]);
    let zh = Mounted::new("panel", "loyalty-panel", r#"{"locale": "zh-CN"}"#, &c, &settings("{}"));
    assert_eq!(zh.text(".birthday p"), "生日（2月29日）当天可得 200 积分");
    // Set once: the headless call is refused now, and a malformed date never leaves the page.
    let again = JsFuture::from(c.set_birthday("03-01".into())).await.expect_err("refused");
    assert_eq!(Reflect::get(&again, &"status".into()).ok().and_then(|s| s.as_f64()), Some(409.0));
    let bad = JsFuture::from(c.set_birthday("3-1".into())).await.expect_err("refused");
    let message = Reflect::get(&bad, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
    assert!(message.contains("birthday: must be a month and day as MM-DD"), "{message}");
    panel.remove();
    zh.remove();
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_loading_panel_is_a_skeleton_and_the_launcher_opens_a_labelled_dialog() {
    // An HTTP client that never answers: the panel stays loading.
    let config = obj(r#"{"apiBase": "https://never.example/api", "timeoutMs": 60000}"#);
    let c = create_client(config).expect("client");
    let s = settings(r#"{"locale": "en"}"#);
    let panel = Mounted::new("panel", "loyalty-panel", "{}", &c, &s);
    assert_eq!(panel.attr(".body", "aria-busy").as_deref(), Some("true"));
    assert!(panel.count(".skeleton") >= 4);
    assert_eq!(panel.text(".sr-only"), "Loading your rewards");
    let launcher = Mounted::new("launcher", "loyalty-launcher", "{}", &c, &s);
    assert_eq!(launcher.attr("dialog", "aria-labelledby").as_deref(), Some("title"));
    assert_eq!(launcher.attr(".launcher", "aria-expanded").as_deref(), Some("false"));
    launcher.widget.open();
    assert_eq!(launcher.attr(".launcher", "aria-expanded").as_deref(), Some("true"));
    assert!(launcher.root.query_selector("dialog[open]").expect("selector").is_some());
    launcher.widget.close();
    pause(20).await;
    assert_eq!(launcher.attr(".launcher", "aria-expanded").as_deref(), Some("false"));
    panel.remove();
    launcher.remove();
    c.destroy();
}

fn seen_of(seen: &Array, kind: &str) -> Vec<String> {
    seen.iter()
        .filter(|e| Reflect::get(e, &"type".into()).ok().and_then(|t| t.as_string()).as_deref() == Some(kind))
        .filter_map(|e| JSON::stringify(&Reflect::get(&e, &"detail".into()).ok()?).ok()?.as_string())
        .collect()
}

#[wasm_bindgen_test]
async fn a_shopper_shares_their_referral_link_in_both_locales() {
    let _ = web_sys::window().expect("window").local_storage().map(|s| s.map(|s| s.clear()));
    let c = client_of(with_referral(), Some(referrer())).await;
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).expect("origin");
    let link = |source: &str| {
        format!(
            "{origin}/shop?x=1&ref=22222222&utm_source={source}&utm_medium=referral&utm_campaign=referral"
        )
    };
    let en = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    stay_on_page(&en.host);
    let seen = events(&en.host);
    assert_eq!(
        en.text(".referral p"),
        "Friends get 100 points on a first order of CN¥50.00 or more, and you get 500 points."
    );
    assert_eq!(en.attr("input.link", "value"), Some(link("copy")));
    assert_eq!(en.attr("input.link", "readonly").as_deref(), Some(""));
    assert_eq!(en.text(".link-line label").trim(), "Your referral link");
    // The share sheet only where the browser has one; six networks as links, e-mail in the mail app.
    assert_eq!(en.count("button[data-action=share]"), u32::from(can_share()));
    assert_eq!(en.count("a.share-link"), 6);
    let mailto = en.attr("a[data-id=email]", "href").expect("e-mail link");
    assert!(mailto.starts_with("mailto:?subject=Points%20for%20you&body=Come%20for%20tea%0A%0A"), "{mailto}");
    assert_eq!(en.attr("a[data-id=email]", "target"), None);
    let whatsapp = en.attr("a[data-id=whatsapp]", "href").expect("WhatsApp link");
    assert!(whatsapp.starts_with("https://wa.me/?text=Come%20for%20tea%20"), "{whatsapp}");
    assert_eq!(en.attr("a[data-id=x]", "rel").as_deref(), Some("noopener noreferrer"));
    assert_eq!(en.attr("a[data-id=x]", "aria-label").as_deref(), Some("X (opens in a new tab)"));
    // The QR code: an SVG image with a name, square, at least version 1 plus the quiet zone.
    assert_eq!(en.attr(".qr svg", "aria-label").as_deref(), Some("QR code of your referral link"));
    let view_box = en.attr(".qr svg", "viewBox").expect("viewBox");
    let size: u32 = view_box.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("size");
    assert_eq!(view_box, format!("0 0 {size} {size}"));
    assert!(size >= 29 && (size - 8 - 17) % 4 == 0, "{size}");
    assert!(
        en.attr(".qr path", "d").is_some_and(|d| d.starts_with("M4 4h7")),
        "the finder pattern's top row"
    );
    assert_eq!(en.text(".referral-counts"), "3 friends joined · 1 friend ordered · 500 points earned");
    assert_eq!(en.text(".referral code"), "22222222");
    // A network's link tells the page which channel, with that channel's link.
    click(&en.root, "a[data-id=x]").expect("X link");
    assert_eq!(seen_of(&seen, "share"), vec![format!(r#"{{"channel":"x","link":"{}"}}"#, link("x"))]);
    // Copying: the clipboard, or the fallback; either way the shopper is told what happened.
    click(&en.root, "button[data-action=copy]").expect("copy button");
    pause(50).await;
    let told = en.text(".link-line [role=status]");
    assert!(told == "Copied" || told == "Select the link to copy it", "{told}");
    if told == "Copied" {
        assert_eq!(seen_of(&seen, "copy"), vec![format!(r#"{{"text":"{}"}}"#, link("copy"))]);
    }

    // Where the browser has a share sheet, it comes first and gets the title, message and link.
    let pair = fake_share_sheet();
    let (shared, restore): (Array, js_sys::Function) =
        (pair.get(0).unchecked_into(), pair.get(1).unchecked_into());
    let sheet = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &c, &settings("{}"));
    let sheet_seen = events(&sheet.host);
    let first = sheet.root.query_selector(".share-list li > *").expect("selector").expect("a first channel");
    assert_eq!(
        (first.tag_name().to_lowercase(), first.get_attribute("data-id")),
        ("button".to_owned(), Some("share".to_owned()))
    );
    assert_eq!(sheet.text("button[data-action=share]"), "Share…");
    click(&sheet.root, "button[data-action=share]").expect("share button");
    pause(30).await;
    assert_eq!(
        shared.iter().filter_map(|d| JSON::stringify(&d).ok()?.as_string()).collect::<Vec<_>>(),
        vec![format!(r#"{{"title":"Points for you","text":"Come for tea","url":"{}"}}"#, link("share"))]
    );
    assert_eq!(
        seen_of(&sheet_seen, "share"),
        vec![format!(r#"{{"channel":"share","link":"{}"}}"#, link("share"))]
    );
    restore.call0(&JsValue::NULL).expect("restore");
    sheet.remove();

    let zh = Mounted::new("panel", "loyalty-panel", r#"{"locale": "zh-CN"}"#, &c, &settings("{}"));
    assert_eq!(zh.text(".referral p"), "好友首单满 ¥50.00 可得 100 积分，你可得 500 积分。");
    assert_eq!(zh.text("a[data-id=weibo]"), "微博");
    assert_eq!(zh.text("a[data-id=email]"), "邮件");
    assert_eq!(zh.text(".qr figcaption"), "微信扫一扫即可分享，也可在门店出示。");
    assert_eq!(zh.text(".referral-counts"), "已邀请 3 位好友 · 1 位好友已下单 · 已获得 500 积分");
    let weibo = zh.attr("a[data-id=weibo]", "href").expect("Weibo link");
    assert!(weibo.ends_with("&title=%E6%9D%A5%E4%B9%B0%E8%8C%B6"), "{weibo}");
    en.remove();
    zh.remove();
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_landing_keeps_a_friends_code_refuses_a_tampered_one_and_credits_the_sign_up() {
    let _ = web_sys::window().expect("window").local_storage().map(|s| s.map(|s| s.clear()));
    let pair = warnings();
    let (warned, restore): (Array, js_sys::Function) =
        (pair.get(0).unchecked_into(), pair.get(1).unchecked_into());
    // A tampered code (its last character changed) is refused before any request, with a console warning.
    set_query("?ref=22222223&utm_source=copy");
    let guest = client_of(with_referral(), None).await;
    assert!(guest.referral().expect("referral").is_null());
    assert!(
        warned.iter().any(|w| w
            .as_string()
            .unwrap_or_default()
            .contains("the referral code in this page's link is refused")),
        "{:?}",
        warned.to_vec()
    );
    guest.destroy();
    // A friend's code is kept (first touch, 30 days), and the guest panel says what joining gives.
    let friend = storefront_loyalty::parse_referral_code("7kq2-m9xj".into()).expect("a valid code");
    assert_eq!(friend, "7KQ2M9XJ");
    set_query(&format!("?ref={}&utm_source=wechat", friend.to_lowercase()));
    let guest = client_of(with_referral(), None).await;
    let kept = guest.referral().expect("referral");
    assert_eq!(Reflect::get(&kept, &"code".into()).ok().and_then(|c| c.as_string()), Some(friend.clone()));
    let landed = Reflect::get(&kept, &"landedAt".into()).ok().and_then(|n| n.as_f64()).expect("landedAt");
    let expires = Reflect::get(&kept, &"expiresAt".into()).ok().and_then(|n| n.as_f64()).expect("expiresAt");
    assert_eq!(expires - landed, 30.0 * 86_400_000.0);
    let panel = Mounted::new("panel", "loyalty-panel", r#"{"locale": "en"}"#, &guest, &settings("{}"));
    assert_eq!(
        panel.text(".invited"),
        "A friend invited you: join and get 100 points on your first order of CN¥50.00 or more."
    );
    panel.remove();
    guest.destroy();
    set_query("");
    // The visitor signs up: the code is recorded for them and leaves the device.
    let signed_in = client_of(with_referral(), Some(referrer())).await;
    pause(30).await;
    assert!(signed_in.referral().expect("referral").is_null(), "sent and forgotten");
    let saved = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).expect("storage");
    let keys: Vec<String> =
        (0..saved.length().unwrap_or(0)).filter_map(|i| saved.key(i).ok().flatten()).collect();
    assert!(!keys.iter().any(|k| k.contains("referral") || k.contains("outbox")), "{keys:?}");
    signed_in.destroy();
    restore.call0(&JsValue::NULL).expect("restore console.warn");
}

#[wasm_bindgen_test]
async fn the_recommendations_list_shows_products_with_their_reasons_records_the_visit_and_has_a_switch() {
    let _ = web_sys::window().expect("window").local_storage().map(|s| s.map(|s| s.clear()));
    let config = Object::new();
    set(&config, "memory", &memory_with_catalog());
    set(
        &config,
        "identity",
        &obj(
            r#"{"customerId": "alice", "timestamp": 1767225600, "digest": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#,
        ),
    );
    let c = create_client(config.into()).unwrap_or_else(|e| panic!("client: {:?}", JsValue::from(e)));
    JsFuture::from(c.ready()).await.expect("ready");
    let list = Mounted::new(
        "recommendations",
        "loyalty-recommendations",
        r#"{"product-id": "longjing", "limit": "3", "locale": "en"}"#,
        &c,
        &settings("{}"),
    );
    stay_on_page(&list.host);
    let seen = events(&list.host);
    // Placeholders of the list's size first, then the list.
    assert_eq!(list.count(".rec-skeleton"), 3);
    pause(50).await;
    assert_eq!(list.text("h2"), "Goes well with this");
    assert_eq!(list.count(".rec-item"), 3);
    assert_eq!(list.text(".rec-item .rec-title"), "Gaiwan");
    assert_eq!(list.text(".rec-item .rec-price"), "CN¥120.00");
    assert_eq!(list.text(".rec-item .rec-points"), "Earn 120 points");
    assert_eq!(list.text(".rec-item .rec-reason"), "Often bought with Longjing");
    assert_eq!(list.attr(".rec-item a", "href").as_deref(), Some("/p/gaiwan"));
    assert_eq!(list.attr(".rec-item img", "loading").as_deref(), Some("lazy"));
    assert_eq!(
        (list.attr(".rec-item img", "width"), list.attr(".rec-item img", "height")),
        (Some("96".into()), Some("96".into()))
    );
    assert_eq!(list.attr("section", "aria-labelledby").as_deref(), Some("recommendations-title"));
    // The product page's visit is in the device's history.
    assert_eq!(
        Reflect::get(&Reflect::get(&c.state(), &"personalisation".into()).expect("p"), &"events".into())
            .ok()
            .and_then(|n| n.as_f64()),
        Some(1.0)
    );
    // A click tells the page which product, where, and why (the link opens it by itself).
    click(&list.root, ".rec-item a").expect("link");
    let clicks: Vec<String> = seen
        .iter()
        .filter(|e| {
            Reflect::get(e, &"type".into()).ok().and_then(|t| t.as_string()).as_deref()
                == Some("recommendation-click")
        })
        .filter_map(|e| JSON::stringify(&Reflect::get(&e, &"detail".into()).ok()?).ok()?.as_string())
        .collect();
    assert_eq!(
        clicks,
        vec![r#"{"productId":"gaiwan","url":"/p/gaiwan","position":0,"reasons":["boughtWith"]}"#.to_owned()]
    );
    // The switch: on, described; off, the note says so and the list is not personal.
    assert_eq!(list.attr("input[role=switch]", "checked").as_deref(), Some(""));
    assert_eq!(list.text(".rec-switch label"), "Personalised recommendations");
    click(&list.root, "input[role=switch]").expect("switch");
    pause(50).await;
    assert_eq!(list.attr("input[role=switch]", "checked"), None);
    assert_eq!(list.text(".rec-switch .note"), "Not personalised: the same for every shopper.");
    // In Chinese, on the home page of a shopper with the switch off: what sells best, said so.
    let zh = Mounted::new(
        "recommendations",
        "loyalty-recommendations",
        r#"{"locale": "zh-CN", "limit": "2"}"#,
        &c,
        &settings("{}"),
    );
    pause(50).await;
    assert_eq!(zh.text("h2"), "为你推荐");
    assert_eq!(zh.text(".rec-item .rec-title"), "礼品卡");
    assert_eq!(zh.text(".rec-item .rec-reason"), "热销商品");
    list.remove();
    zh.remove();
    c.destroy();
}
