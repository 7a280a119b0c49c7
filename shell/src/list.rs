//! The sentences of a recommendations list (its headings, each product's price and why it is there, the
//! personalisation switch), per locale, and how a ranked item becomes them. Here, beside the badges' texts,
//! because the list's worker module (`recs/`) and the full widget's list both say them: a list reads the same
//! whichever module drew it. Joined by hand, as the badges' are (no `format!` in the small modules).

use crate::texts::{decimal, join, number, ShellTexts, EN, ZH_CN};
use loyalty_core::{Currency, LocalizedText, Reason, ReasonKind, RecommendContext, RecommendRequest};

/// What one locale says in a recommendations list.
pub struct ListTexts {
    /// The badges' texts of the same locale (numbers, "Earn 120 points").
    pub shell: &'static ShellTexts,
    /// The heading elsewhere ("Picked for you").
    pub for_you: &'static str,
    /// The heading on a product page.
    pub goes_with: &'static str,
    /// The heading in the cart.
    pub complete_order: &'static str,
    /// Shown when there is nothing to recommend.
    pub empty: &'static str,
    /// (product title): bought together with it.
    pub bought_with: fn(&str) -> String,
    /// (product title): the shopper looked at it.
    pub viewed: fn(&str) -> String,
    /// (product title): like it.
    pub similar: fn(&str) -> String,
    /// Sells well.
    pub popular: &'static str,
    /// Sells well in the page's category.
    pub popular_in: &'static str,
    /// (multiplier such as "2" or "1.5").
    pub bonus: fn(&str) -> String,
    /// (tier name).
    pub tier: fn(&str) -> String,
    /// (reward name).
    pub reward: fn(&str) -> String,
    /// Bought before (a consumable).
    pub again: &'static str,
    /// Added to the shop lately.
    pub new: &'static str,
    /// The personalisation switch's label.
    pub switch: &'static str,
    /// Under the switch when on.
    pub personalised_note: &'static str,
    /// Under the switch when off.
    pub not_personalised_note: &'static str,
}

/// English.
pub const EN_LIST: ListTexts = ListTexts {
    shell: &EN,
    for_you: "Picked for you",
    goes_with: "Goes well with this",
    complete_order: "Complete your order",
    empty: "Recommendations will appear here as you browse.",
    bought_with: |t| join(&["Often bought with ", t]),
    viewed: |t| join(&["Because you viewed ", t]),
    similar: |t| join(&["Like ", t]),
    popular: "Popular right now",
    popular_in: "Popular in this category",
    bonus: |x| join(&[x, "× points"]),
    tier: |t| join(&["Reaches ", t]),
    reward: |r| join(&["Earns enough for ", r]),
    again: "Buy again",
    new: "New in the shop",
    switch: "Personalised recommendations",
    personalised_note: "Based on what you viewed and bought, kept on this device only.",
    not_personalised_note: "Not personalised: the same for every shopper.",
};

/// Simplified Chinese.
pub const ZH_CN_LIST: ListTexts = ListTexts {
    shell: &ZH_CN,
    for_you: "为你推荐",
    goes_with: "搭配推荐",
    complete_order: "凑单推荐",
    empty: "浏览商品后，这里会出现为你推荐的商品。",
    bought_with: |t| join(&["常与「", t, "」一起购买"]),
    viewed: |t| join(&["因为你浏览过「", t, "」"]),
    similar: |t| join(&["与「", t, "」相似"]),
    popular: "热销商品",
    popular_in: "同类热销",
    bonus: |x| join(&[x, " 倍积分"]),
    tier: |t| join(&["购买即可升级为", t]),
    reward: |r| join(&["购买后积分可兑换", r]),
    again: "再次购买",
    new: "新品上架",
    switch: "个性化推荐",
    personalised_note: "根据你的浏览和购买记录推荐，记录只保存在本设备上。",
    not_personalised_note: "未开启个性化：所有顾客看到的推荐相同。",
};

/// The list's texts for a BCP 47 tag, chosen as the badges' are ([`crate::texts::texts`]).
pub fn texts(tag: &str) -> &'static ListTexts {
    if crate::texts::texts(tag).tag == ZH_CN.tag {
        &ZH_CN_LIST
    } else {
        &EN_LIST
    }
}

/// A `<loyalty-recommendations>` element's attributes as written (empty when absent): what both modules that
/// draw a list read the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListAttributes<'a> {
    /// `context`: `product`, `cart` or `home`.
    pub context: &'a str,
    /// `product-id`.
    pub product_id: &'a str,
    /// `cart`: product ids, comma-separated.
    pub cart: &'a str,
    /// `category`.
    pub category: &'a str,
    /// `limit`: 1 to 12 (default 4).
    pub limit: &'a str,
    /// Whether `repurchase` is there.
    pub repurchase: bool,
}

impl<'a> ListAttributes<'a> {
    /// What to rank: the context (a product page when there is a product and no other context), the page's
    /// product and cart, the category, how many; `personalised` as the shopper's choices allow.
    pub fn request(&self, personalised: bool) -> RecommendRequest {
        let given = |v: &'a str| Some(v.trim()).filter(|v| !v.is_empty());
        let product_id = given(self.product_id).map(str::to_owned);
        let context = match given(self.context) {
            Some("cart") => RecommendContext::Cart,
            Some("home") => RecommendContext::Home,
            Some("product") => RecommendContext::Product,
            _ if product_id.is_some() => RecommendContext::Product,
            _ => RecommendContext::Home,
        };
        RecommendRequest {
            context,
            product_id,
            cart: self.cart.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            category: given(self.category).map(str::to_owned),
            limit: given(self.limit).and_then(|l| l.parse().ok()).unwrap_or(4).clamp(1, 12),
            exclude: Vec::new(),
            repurchase: self.repurchase,
            personalised,
        }
    }
}

/// A price as `Intl.NumberFormat` writes it in this locale (`CN¥168.00` in en, `¥168.00` in zh-CN), for the
/// currencies shops here sell in, without an `Intl` formatter: the page's first one costs 25-40 ms of main
/// thread (more on a slow phone), which a list would otherwise add. Other currencies are written with their
/// code (`SEK 12.50`). Prices are not negative.
pub fn price(minor: i64, currency: Currency, texts: &ShellTexts) -> String {
    let chinese = texts.tag.starts_with("zh");
    let symbol = match (currency.code(), chinese) {
        ("CNY", true) => "¥",
        ("CNY", false) => "CN¥",
        ("USD", true) => "US$",
        ("USD", false) => "$",
        ("JPY", true) => "JP¥",
        ("JPY", false) => "¥",
        ("EUR", _) => "€",
        ("GBP", _) => "£",
        ("HKD", _) => "HK$",
        ("TWD", _) => "NT$",
        ("KRW", _) => "₩",
        (code, _) => return join(&[code, " ", &amount(minor, currency, texts)]),
    };
    join(&[symbol, &amount(minor, currency, texts)])
}

/// `16800` fen as `168.00`, grouped like [`number`].
fn amount(minor: i64, currency: Currency, texts: &ShellTexts) -> String {
    let minor = minor.max(0);
    let per = currency.minor_per_major().max(1);
    let whole = number(minor / per, texts);
    let digits = usize::from(currency.exponent());
    if digits == 0 {
        return whole;
    }
    let fraction = decimal((minor % per).unsigned_abs());
    let zeros = "0".repeat(digits.saturating_sub(fraction.len()));
    join(&[&whole, ".", &zeros, &fraction])
}

/// A multiplier in percent as a short decimal: 200 as `2`, 150 as `1.5`, 125 as `1.25`.
pub fn multiplier(percent: u32) -> String {
    let whole = decimal(u64::from(percent / 100));
    let cents = percent % 100;
    if cents == 0 {
        return whole;
    }
    let fraction = if cents % 10 == 0 { decimal(u64::from(cents / 10)) } else { decimal(u64::from(cents)) };
    let fraction = if cents < 10 { join(&["0", &fraction]) } else { fraction };
    join(&[&whole, ".", &fraction])
}

/// A name in the locale `tag`: exactly, else in its language, else in `fallback`, else the first given.
pub fn local<'a>(text: &'a LocalizedText, tag: &str, fallback: Option<&str>) -> &'a str {
    let language = tag.split('-').next().unwrap_or(tag);
    text.get(tag)
        .or_else(|| text.iter().find(|(k, _)| k.split('-').next() == Some(language)).map(|(_, v)| v))
        .or_else(|| fallback.and_then(|f| text.get(f)))
        .or_else(|| text.values().next())
        .map_or("", String::as_str)
}

/// The names a reason may need, looked up by the caller's own means (the product's title in the page's
/// locale, the tier's and the reward's names).
pub struct Names<'a> {
    /// A product's title by id.
    pub product: &'a dyn Fn(&str) -> Option<String>,
    /// A tier's name by id.
    pub tier: &'a dyn Fn(&str) -> Option<String>,
    /// A reward's name by id.
    pub reward: &'a dyn Fn(&str) -> Option<String>,
}

/// Why a product is there, as a sentence; none when a name it needs is unknown.
pub fn reason(reason: &Reason, names: &Names<'_>, texts: &ListTexts) -> Option<String> {
    let product = || reason.product_id.as_deref().and_then(|id| (names.product)(id)).unwrap_or_default();
    Some(match reason.kind {
        ReasonKind::BoughtWith => (texts.bought_with)(&product()),
        ReasonKind::Viewed => (texts.viewed)(&product()),
        ReasonKind::Similar => (texts.similar)(&product()),
        ReasonKind::Popular => texts.popular.to_owned(),
        ReasonKind::PopularIn => texts.popular_in.to_owned(),
        ReasonKind::BonusPoints => (texts.bonus)(&multiplier(reason.percent?)),
        ReasonKind::ReachesTier => (texts.tier)(&(names.tier)(reason.tier_id.as_deref()?)?),
        ReasonKind::ReachesReward => (texts.reward)(&(names.reward)(reason.reward_id.as_deref()?)?),
        ReasonKind::BoughtBefore => texts.again.to_owned(),
        ReasonKind::New => texts.new.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_written_as_intl_writes_them() {
        let cny = Currency::known("CNY").unwrap();
        let jpy = Currency::known("JPY").unwrap();
        let sek = Currency::known("SEK").unwrap();
        for (minor, currency, texts, expected) in [
            (16_800, cny, &EN, "CN¥168.00"),
            (16_800, cny, &ZH_CN, "¥168.00"),
            (123_456_705, cny, &EN, "CN¥1,234,567.05"),
            (1_500, jpy, &EN, "¥1,500"),
            (1_250, sek, &EN, "SEK 12.50"),
            (-5, cny, &EN, "CN¥0.00"),
        ] {
            assert_eq!(price(minor, currency, texts), expected);
        }
    }

    #[test]
    fn multipliers_are_short_decimals() {
        for (percent, expected) in [(200, "2"), (150, "1.5"), (125, "1.25"), (105, "1.05"), (1_000, "10")] {
            assert_eq!(multiplier(percent), expected);
        }
    }

    #[test]
    fn reasons_speak_both_locales() {
        let names = Names {
            product: &|id| (id == "pot").then(|| "Teapot".to_owned()),
            tier: &|id| (id == "gold").then(|| "Gold".to_owned()),
            reward: &|_| None,
        };
        let with =
            |kind, product: Option<&str>| Reason { product_id: product.map(Into::into), ..Reason::of(kind) };
        let tier = Reason { tier_id: Some("gold".into()), ..Reason::of(ReasonKind::ReachesTier) };
        let bonus = Reason { percent: Some(150), ..Reason::of(ReasonKind::BonusPoints) };
        let reward = Reason { reward_id: Some("gift".into()), ..Reason::of(ReasonKind::ReachesReward) };
        for (r, texts, expected) in [
            (with(ReasonKind::BoughtWith, Some("pot")), &EN_LIST, Some("Often bought with Teapot")),
            (with(ReasonKind::Viewed, Some("pot")), &ZH_CN_LIST, Some("因为你浏览过「Teapot」")),
            (tier.clone(), &EN_LIST, Some("Reaches Gold")),
            (tier, &ZH_CN_LIST, Some("购买即可升级为Gold")),
            (bonus, &EN_LIST, Some("1.5× points")),
            (reward, &EN_LIST, None),
        ] {
            assert_eq!(reason(&r, &names, texts).as_deref(), expected);
        }
    }

    #[test]
    fn names_fall_back_by_language_then_the_program_locale() {
        let text: LocalizedText =
            [("en".to_owned(), "Tea".to_owned()), ("zh-CN".to_owned(), "茶".to_owned())].into();
        assert_eq!(local(&text, "zh-TW", None), "茶");
        assert_eq!(local(&text, "fr", Some("zh-CN")), "茶");
        assert_eq!(local(&text, "fr", None), "Tea");
        assert_eq!(texts("zh-Hans").goes_with, "搭配推荐");
        assert_eq!(texts("de").goes_with, "Goes well with this");
    }
}
