//! A points badge from what the page says: the element's attributes (as written), else the page's schema.org
//! Product JSON-LD; and its sentence. Every problem names the attribute it came from, for the console.

use crate::texts::{self, ShellTexts};
use loyalty_core::{Cart, CartLine, Currency, EarnResult, Problems, ProductOffer, ReadJson};

loyalty_core::wire_struct! {
    lenient;
    /// What the page says about one badge, as the loader read it: attribute values as written (or absent).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct BadgeInput {
        /// `cart-points` (or a `points` element with a `cart` attribute) reads `lines`; others a product.
        pub cart: bool = false,
        /// `product-id`.
        pub product_id: Option<String>,
        /// `price`, minor units.
        pub price: Option<String>,
        /// `currency`.
        pub currency: Option<String>,
        /// `quantity`.
        pub quantity: Option<String>,
        /// `variant-id`.
        pub variant_id: Option<String>,
        /// `categories`, comma separated.
        pub categories: Option<String>,
        /// `tags`, comma separated.
        pub tags: Option<String>,
        /// `lines`: the cart's lines as JSON text, or the JSON of a `cart` property.
        pub lines: Option<String>,
        /// The first schema.org Product of the page's JSON-LD, when the badge names no product.
        pub json_ld: Option<JsonLdProduct>,
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// The first Product in the page's JSON-LD, its values as written: found by the loader (a `@graph`, an
    /// array or the document itself, `@type` `Product`), read here.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct JsonLdProduct {
        /// `productID`, else `sku`.
        pub id: Option<String>,
        /// The first offer's `price`, else `lowPrice` (a decimal in major units).
        pub price: Option<String>,
        /// The first offer's `priceCurrency`.
        pub currency: Option<String>,
    }
}

/// A whole-number attribute.
fn whole(problems: &mut Problems, name: &str, value: Option<&str>) -> Option<i64> {
    let value = value?;
    match value.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(
                name,
                texts::join(&["must be a whole number (minor units for prices), got \"", value, "\""]),
            );
            None
        }
    }
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn currency(problems: &mut Problems, input: &BadgeInput, default: Currency) -> Currency {
    match input.currency.as_deref() {
        Some(code) => Currency::parse(code.trim()).unwrap_or_else(|message| {
            problems.push("currency", message);
            default
        }),
        None => default,
    }
}

/// The product a badge shows: `product-id` and `price` (minor units), else the JSON-LD product; with
/// `quantity`, `variant-id`, `categories` and `tags` from the attributes. `default` is the page's currency
/// (the setting, else the program's).
pub fn offer(input: &BadgeInput, default: Currency) -> Result<ProductOffer, Problems> {
    let mut problems = Problems::default();
    let quantity = whole(&mut problems, "quantity", input.quantity.as_deref()).unwrap_or(1);
    let mut offer = match (input.product_id.as_deref(), input.price.as_deref()) {
        (None, None) => json_ld(input.json_ld.as_ref(), default)?,
        (id, price) => {
            let currency = currency(&mut problems, input, default);
            let price = whole(&mut problems, "price", price);
            if id.is_none_or(|i| i.trim().is_empty()) {
                problems.push("product-id", "is required with price");
            }
            if price.is_none() && !problems.0.iter().any(|p| p.path == "price") {
                problems.push("price", "is required with product-id (minor units, e.g. 12900 for ¥129.00)");
            }
            ProductOffer {
                product_id: id.unwrap_or_default().to_owned(),
                variant_id: None,
                categories: Vec::new(),
                tags: Vec::new(),
                price: price.unwrap_or(0),
                currency,
                exchange_rate: None,
                quantity: 1,
            }
        }
    };
    offer.quantity = quantity;
    if let Some(variant) = &input.variant_id {
        offer.variant_id = Some(variant.clone());
    }
    let categories = list(input.categories.as_deref());
    if !categories.is_empty() {
        offer.categories = categories;
    }
    let tags = list(input.tags.as_deref());
    if !tags.is_empty() {
        offer.tags = tags;
    }
    if problems.0.is_empty() {
        Ok(offer)
    } else {
        Err(problems)
    }
}

/// The JSON-LD product: its id, and its price (a decimal, turned into exact minor units) in its currency.
fn json_ld(product: Option<&JsonLdProduct>, default: Currency) -> Result<ProductOffer, Problems> {
    let Some(product) = product else {
        return Err(Problems::one(
            "product-id",
            "is missing: give product-id and price, or put schema.org Product JSON-LD on the page",
        ));
    };
    let mut problems = Problems::default();
    let currency = match &product.currency {
        Some(code) => Currency::parse(code).unwrap_or_else(|m| {
            problems.push("json-ld.offers.priceCurrency", m);
            default
        }),
        None => default,
    };
    let price = match &product.price {
        Some(p) => currency.parse_decimal(p).map_err(|m| problems.push("json-ld.offers.price", m)).ok(),
        None => {
            problems.push("json-ld.offers.price", "is missing");
            None
        }
    };
    if product.id.is_none() {
        problems.push("json-ld.productID", "is missing (productID or sku)");
    }
    match (&product.id, price) {
        (Some(id), Some(price)) if problems.0.is_empty() => Ok(ProductOffer {
            product_id: id.clone(),
            variant_id: None,
            categories: Vec::new(),
            tags: Vec::new(),
            price,
            currency,
            exchange_rate: None,
            quantity: 1,
        }),
        _ => Err(problems),
    }
}

/// The cart a cart badge shows: `lines` (JSON, as the attribute or the `cart` property gives them) in
/// `currency`.
pub fn cart(input: &BadgeInput, default: Currency) -> Result<Cart, Problems> {
    let mut problems = Problems::default();
    let currency = currency(&mut problems, input, default);
    // Read quietly (the full decoder's messages would double this module): what does not read is named once.
    let lines = match &input.lines {
        Some(text) => Vec::<CartLine>::read_str(text).or_else(|| {
            problems.push("lines", "must be a JSON array of cart lines ({productId, unitPrice, quantity})");
            None
        }),
        None => Some(Vec::new()),
    };
    match lines {
        Some(lines) if problems.0.is_empty() => {
            Ok(Cart { currency, exchange_rate: None, lines, order_discount: 0, shipping: 0 })
        }
        _ => Err(problems),
    }
}

/// The badge's sentence ("Earn 120 points", with the minimum order or the cap when they apply); `money`
/// formats the minimum order in the program's currency. `None` for an empty cart, which says nothing.
pub fn text(
    result: &EarnResult,
    cart: bool,
    texts: &ShellTexts,
    money: impl FnOnce(i64) -> String,
) -> Option<String> {
    if cart && result.eligible_amount.amount == 0 && result.points == 0 {
        return None;
    }
    if result.points == 0 && result.minimum_order_met {
        return Some(texts.no_points.to_owned());
    }
    let n = result.points;
    let shown = texts::number(n, texts);
    let mut text = if cart { (texts.cart_badge)(&shown, n) } else { (texts.earn_badge)(&shown, n) };
    if let (Some(minimum), false) = (result.minimum_order, result.minimum_order_met) {
        text.push_str(&(texts.from_minimum)(&money(minimum)));
    }
    if result.capped {
        text.push_str(" (");
        text.push_str(texts.capped);
        text.push(')');
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> BadgeInput {
        let mut input = BadgeInput::default();
        for (name, value) in pairs {
            let value = Some((*value).to_owned());
            match *name {
                "product-id" => input.product_id = value,
                "price" => input.price = value,
                "currency" => input.currency = value,
                "quantity" => input.quantity = value,
                "categories" => input.categories = value,
                "lines" => input.lines = value,
                other => panic!("no attribute {other}"),
            }
        }
        input
    }

    fn problems(input: &BadgeInput) -> String {
        offer(input, Currency::CNY).map(|_| String::new()).unwrap_or_else(|p| p.joined())
    }

    #[test]
    fn attributes_give_the_product_or_say_which_is_wrong() {
        let given = offer(
            &input(&[("product-id", "tea"), ("price", "16800"), ("quantity", "2"), ("categories", "a, b,")]),
            Currency::CNY,
        )
        .expect("an offer");
        assert_eq!((given.product_id.as_str(), given.price, given.quantity), ("tea", 16800, 2));
        assert_eq!(given.categories, ["a", "b"]);
        assert_eq!(problems(&input(&[("price", "16800")])), "product-id: is required with price");
        assert_eq!(
            problems(&input(&[("product-id", "tea"), ("price", "168.00")])),
            "price: must be a whole number (minor units for prices), got \"168.00\""
        );
        assert_eq!(
            problems(&input(&[("product-id", "tea"), ("price", "1"), ("currency", "yuan")])),
            "currency: must be an ISO 4217 code of three capital letters such as \"CNY\", got \"yuan\""
        );
        assert_eq!(
            problems(&BadgeInput::default()),
            "product-id: is missing: give product-id and price, or put schema.org Product JSON-LD on the page"
        );
    }

    #[test]
    fn a_json_ld_product_gives_exact_minor_units() {
        let ld = |price: &str, currency: Option<&str>| BadgeInput {
            json_ld: Some(JsonLdProduct {
                id: Some("longjing".into()),
                price: Some(price.into()),
                currency: currency.map(str::to_owned),
            }),
            ..BadgeInput::default()
        };
        let given = offer(&ld("168.00", Some("CNY")), Currency::USD).expect("an offer");
        assert_eq!((given.price, given.currency), (16800, Currency::CNY));
        assert_eq!(offer(&ld("1299", Some("JPY")), Currency::CNY).map(|o| o.price), Ok(1299));
        // The reason is one of loyalty-core's messages: there with its feature `messages` (the workspace's
        // tests), absent from the shell as shipped (`cargo test -p loyalty-shell`), which names the member only.
        let said = problems(&ld("12.345", None));
        assert!(
            said == "json-ld.offers.price"
                || said.starts_with("json-ld.offers.price: has more than 2 decimals"),
            "{said}"
        );
    }
}
