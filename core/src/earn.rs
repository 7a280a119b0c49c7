//! Points a purchase earns: for one product on its page, and for a whole cart, with a breakdown.
//!
//! Every rule counts, for every variant and quantity: exclusions, tier multipliers, product/category/tag
//! bonuses, campaigns, the per-order cap and the minimum order. The widget shows exactly what the server
//! awards, because both call these functions.
//!
//! How the parts combine: every multiplier is a percentage of the *base* points of the lines it applies to,
//! and the extra above 100% is its own component (a Gold tier at 150% and a double-points campaign on a line
//! with 100 base points add 50 + 100, for 250 in all). Each component is rounded on its own (per order or per
//! line, as the program says), so the breakdown always sums to the total. Amounts in another currency are
//! converted into the base currency with an exact rational rate before anything is counted.

use crate::money::{Currency, ExchangeRate, Money};
use crate::problems::{check_range, Checker, Problems};
use crate::program::{Bonus, Campaign, EarnRules, EarnView, Rounding, RoundingScope, MAX_AMOUNT};
use crate::time::{check_timestamp, Timestamp};
use serde::Serialize;

/// Most lines a cart may have.
pub const MAX_LINES: usize = 10_000;

/// Most units one line may have.
pub const MAX_QUANTITY: i64 = 1_000_000;

wire_struct! {
    lenient;
    /// One line of a cart or order.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CartLine {
        /// The product id (bonuses and exclusions by id match it).
        pub product_id: String,
        /// The variant bought, if the product has variants.
        pub variant_id: Option<String>,
        /// The product's categories.
        pub categories: Vec<String> = Vec::new(),
        /// The product's tags.
        pub tags: Vec<String> = Vec::new(),
        /// Price of one unit in the cart's currency, minor units, before discounts and without tax.
        pub unit_price: i64,
        /// Units bought.
        pub quantity: i64,
        /// Discount on this line in total (not per unit), minor units.
        pub discount: i64 = Default::default(),
        /// Tax on this line, minor units.
        pub tax: i64 = Default::default(),
    }
}

wire_struct! {
    lenient;
    /// A cart, or the lines of an order being awarded.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Cart {
        /// The currency of every amount in the cart.
        pub currency: Currency,
        /// Required when `currency` is not the program's: converts cart amounts into the base currency.
        pub exchange_rate: Option<ExchangeRate>,
        /// The lines.
        pub lines: Vec<CartLine>,
        /// Order-level discount (a coupon), minor units; shared among lines in proportion to their amounts.
        pub order_discount: i64 = Default::default(),
        /// Shipping charged, minor units.
        pub shipping: i64 = Default::default(),
    }
}

wire_struct! {
    lenient;
    /// A product as shown on its page: what buying `quantity` of it earns.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ProductOffer {
        /// The product id.
        pub product_id: String,
        /// The selected variant, if any.
        pub variant_id: Option<String>,
        /// The product's categories.
        pub categories: Vec<String> = Vec::new(),
        /// The product's tags.
        pub tags: Vec<String> = Vec::new(),
        /// Price of one unit (of the selected variant), minor units of `currency`, after any sale price.
        pub price: i64,
        /// The currency of `price`.
        pub currency: Currency,
        /// Required when `currency` is not the program's.
        pub exchange_rate: Option<ExchangeRate>,
        /// Units (default 1).
        pub quantity: i64 = one(),
    }
}

fn one() -> i64 {
    1
}

wire_struct! {
    lenient;
    /// Who is buying and when: the inputs that change earnings besides the cart.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EarnContext {
        /// The instant of the purchase (or of the page view), UTC seconds: campaigns are active or not at it.
        pub now: Timestamp,
        /// The shopper's current tier, if any (guests have none).
        pub tier_id: Option<String>,
    }
}

wire_enum! {
    /// What a component of the earnings is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum EarnComponentKind {
        /// The base rate.
        Base,
        /// The shopper's tier multiplier.
        Tier,
        /// A product, category or tag bonus.
        Bonus,
        /// A campaign.
        Campaign,
        /// The per-order cap (negative: what the cap took away).
        Cap,
    }
}

wire_struct! {
    lenient;
    /// One part of the points, so the page can explain them ("120 base + 60 Gold + 120 double weekend").
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EarnComponent {
        /// What it is.
        pub kind: EarnComponentKind,
        /// The tier, bonus or campaign id; absent for base and cap.
        pub id: Option<String>,
        /// Points (negative only for the cap).
        pub points: i64,
    }
}

wire_struct! {
    lenient;
    /// Points earned, with the breakdown. `points` always equals the sum of `components`.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EarnResult {
        /// Total points.
        pub points: i64,
        /// The parts, in order: base, tier, bonuses, campaigns, cap. Parts worth 0 are left out.
        pub components: Vec<EarnComponent>,
        /// The amount that earned, in base-currency minor units (rounded down).
        pub eligible_amount: Money,
        /// The program's minimum order, if it has one.
        pub minimum_order: Option<i64>,
        /// False when the order is below the minimum. A cart below it earns 0; a product keeps its points,
        /// which then hold "on orders from `minimum_order`".
        pub minimum_order_met: bool,
        /// True when the per-order cap cut the points.
        pub capped: bool,
    }
}

/// Points for buying `offer.quantity` units of one product, as its page shows them.
///
/// Equal to what a cart holding just this line earns, except that a minimum order the product alone does
/// not reach is reported (`minimum_order_met: false`) rather than zeroing the points.
pub fn points_for_product<'a>(
    program: impl Into<EarnView<'a>>,
    offer: &ProductOffer,
    context: &EarnContext,
) -> Result<EarnResult, Problems> {
    let cart = Cart {
        currency: offer.currency,
        exchange_rate: offer.exchange_rate,
        lines: vec![CartLine {
            product_id: offer.product_id.clone(),
            variant_id: offer.variant_id.clone(),
            categories: offer.categories.clone(),
            tags: offer.tags.clone(),
            unit_price: offer.price,
            quantity: offer.quantity,
            discount: 0,
            tax: 0,
        }],
        order_discount: 0,
        shipping: 0,
    };
    let problems = |mut p: Problems| {
        // Report paths in the names of the offer, not of the cart built from it (a build without messages has
        // no paths to rename).
        if cfg!(feature = "messages") {
            for problem in &mut p.0 {
                problem.path = match problem.path.as_str() {
                    "lines[0]" | "lines[0].unitPrice" => "price".to_owned(),
                    other => other.strip_prefix("lines[0].").unwrap_or(other).to_owned(),
                };
            }
        }
        p
    };
    let program = program.into();
    let checked = check_cart(program, &cart, context).map_err(problems)?;
    compute(program, &cart, checked, true).map_err(problems)
}

/// Points a cart (or a paid order) earns. The server awards exactly this for an order.
pub fn points_for_cart<'a>(
    program: impl Into<EarnView<'a>>,
    cart: &Cart,
    context: &EarnContext,
) -> Result<EarnResult, Problems> {
    let program = program.into();
    let checked = check_cart(program, cart, context)?;
    compute(program, cart, checked, false)
}

/// What validation learned and the computation needs.
struct Checked<'a> {
    rate: ExchangeRate,
    tier_multiplier: u32,
    tier_id: Option<&'a str>,
    now: Timestamp,
}

fn check_cart<'a>(
    program: EarnView<'a>,
    cart: &Cart,
    context: &EarnContext,
) -> Result<Checked<'a>, Problems> {
    let mut c = Checker::default();
    let mut rate = ExchangeRate::ONE;
    if cart.currency == program.currency {
        if cart.exchange_rate.is_some_and(|r| r.numerator != r.denominator) {
            c.fail_at(
                "exchangeRate",
                message!("must be absent when the currency is the program's ({})", program.currency),
            );
        }
    } else {
        match cart.exchange_rate {
            None => c.fail_at(
                "exchangeRate",
                message!(
                    "is required when the currency ({}) is not the program's ({})",
                    cart.currency,
                    program.currency
                ),
            ),
            Some(r) => match r.check() {
                Ok(()) => rate = r,
                Err(message) => c.fail_at("exchangeRate", message),
            },
        }
    }
    if cart.lines.len() > MAX_LINES {
        c.fail_at("lines", message!("must have at most {MAX_LINES} lines, got {}", cart.lines.len()));
    }
    let mut subtotal: i64 = 0;
    c.each("lines", &cart.lines, |c, _, line| {
        if line.product_id.is_empty() {
            c.fail_at("productId", "must not be empty");
        }
        check_range(c, "quantity", line.quantity, 1, MAX_QUANTITY);
        check_range(c, "unitPrice", line.unit_price, 0, MAX_AMOUNT);
        check_range(c, "tax", line.tax, 0, MAX_AMOUNT);
        if line.unit_price < 0 || line.quantity < 1 {
            return; // Already reported; the line total means nothing.
        }
        let total = line.unit_price.checked_mul(line.quantity.min(MAX_QUANTITY)).filter(|t| *t <= MAX_AMOUNT);
        match total {
            None => c.fail(message!("unitPrice × quantity must be at most {MAX_AMOUNT}")),
            Some(total) => {
                if line.discount < 0 || line.discount > total {
                    c.fail_at(
                        "discount",
                        message!("must be between 0 and the line total ({total}), got {}", line.discount),
                    );
                }
                // `max` and `min` rather than `clamp` (the same here, as `total` is not negative), whose panic
                // would link integer formatting into the shell.
                subtotal = subtotal.saturating_add(total - line.discount.max(0).min(total));
            }
        }
    });
    if subtotal > MAX_AMOUNT {
        c.fail_at("lines", message!("the order total must be at most {MAX_AMOUNT}"));
    }
    if cart.order_discount < 0 || cart.order_discount > subtotal {
        c.fail_at(
            "orderDiscount",
            message!(
                "must be between 0 and the subtotal after line discounts ({subtotal}), got {}",
                cart.order_discount
            ),
        );
    }
    check_range(&mut c, "shipping", cart.shipping, 0, MAX_AMOUNT);
    if let Err(message) = check_timestamp(context.now) {
        c.fail_at("now", message);
    }
    let mut tier_multiplier = 100;
    if let Some(id) = &context.tier_id {
        match program.tier(id) {
            Some(tier) => tier_multiplier = tier.earn_multiplier_percent,
            None => c.fail_at("tierId", message!("unknown tier \"{id}\"")),
        }
    }
    c.finish()?;
    let tier_id = context.tier_id.as_deref().and_then(|id| program.tier(id)).map(|t| t.id.as_str());
    Ok(Checked { rate, tier_multiplier, tier_id, now: context.now })
}

/// Accumulates each component as an exact fraction over a common denominator, rounding per line or once.
struct Tally {
    keys: Vec<(EarnComponentKind, Option<String>)>,
    exact: Vec<i128>,
    line: Vec<i128>,
    whole: Vec<i64>,
    denominator: i128,
    rounding: Rounding,
    per_line: bool,
}

impl Tally {
    fn new(program: EarnView<'_>, checked: &Checked<'_>) -> Tally {
        let earn = program.earn;
        let mut keys = vec![
            (EarnComponentKind::Base, None),
            (EarnComponentKind::Tier, checked.tier_id.map(str::to_owned)),
        ];
        keys.extend(earn.bonuses.iter().map(|b| (EarnComponentKind::Bonus, Some(b.id.clone()))));
        keys.extend(earn.campaigns.iter().map(|c| (EarnComponentKind::Campaign, Some(c.id.clone()))));
        let n = keys.len();
        Tally {
            keys,
            exact: vec![0; n],
            line: vec![0; n],
            whole: vec![0; n],
            denominator: i128::from(checked.rate.denominator) * i128::from(earn.rate.per_amount) * 100,
            rounding: earn.rounding,
            per_line: earn.rounding_scope == RoundingScope::Line,
        }
    }

    /// Adds to a component of the current line. The sums saturate: past i128 (10,000 lines at a foreign rate of
    /// 10^9 and the largest multipliers reach it) they are far beyond MAX_AMOUNT points whatever the
    /// denominator (at most 10^20), so `finish` refuses them; below it they are exact.
    fn add(&mut self, index: usize, numerator: i128) {
        self.line[index] = self.line[index].saturating_add(numerator);
    }

    /// Ends a line: rounds it now in per-line mode, or carries the exact value to the order total.
    fn end_line(&mut self) {
        for i in 0..self.line.len() {
            let numerator = std::mem::take(&mut self.line[i]);
            if self.per_line {
                self.whole[i] =
                    self.whole[i].saturating_add(round(numerator, self.denominator, self.rounding));
            } else {
                self.exact[i] = self.exact[i].saturating_add(numerator);
            }
        }
    }

    /// The components worth something, or `None` when together they exceed [`MAX_AMOUNT`] points.
    fn finish(mut self) -> Option<Vec<EarnComponent>> {
        if !self.per_line {
            for i in 0..self.exact.len() {
                self.whole[i] = round(self.exact[i], self.denominator, self.rounding);
            }
        }
        // Bounded here: the rates that validation allows go past i64 (1,000,000 points per minor unit on a line
        // of MAX_AMOUNT is 10^21 points). Components saturated at i64::MAX and then summed in i64 overflowed: a
        // panic, or a wrapped (even negative) award in a build without overflow checks. Found by the fuzz
        // checks (fuzz/regressions/program/every-limit.json).
        let total = self.whole.iter().try_fold(0_i64, |sum, w| sum.checked_add(*w));
        if total.is_none_or(|t| t > MAX_AMOUNT) {
            return None;
        }
        let components = self
            .keys
            .into_iter()
            .zip(self.whole)
            .filter(|(_, points)| *points != 0)
            .map(|((kind, id), points)| EarnComponent { kind, id, points })
            .collect();
        Some(components)
    }
}

/// Rounds `numerator / denominator` (both non-negative, denominator positive) to a whole number of points,
/// `i64::MAX` past it; a numerator near i128::MAX (a saturated sum) rounds to a number far past MAX_AMOUNT.
fn round(numerator: i128, denominator: i128, mode: Rounding) -> i64 {
    // Half of i128 is far past any award (the denominator is at most 10^20): no arithmetic near the edge.
    if numerator > i128::MAX / 4 {
        return i64::MAX;
    }
    let q = match mode {
        Rounding::Floor => numerator / denominator,
        Rounding::Ceil => (numerator + denominator - 1) / denominator,
        Rounding::Nearest => (2 * numerator + denominator) / (2 * denominator),
    };
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// Shares `discount` among `amounts` in proportion, in whole minor units (largest remainder first).
fn share_discount(amounts: &[i64], discount: i64) -> Vec<i64> {
    let total: i128 = amounts.iter().map(|a| i128::from(*a)).sum();
    if total == 0 || discount == 0 {
        return vec![0; amounts.len()];
    }
    let exact: Vec<(i128, i128)> = amounts
        .iter()
        .map(|a| {
            let n = i128::from(*a) * i128::from(discount);
            (n / total, n % total)
        })
        .collect();
    let mut shares: Vec<i64> = exact.iter().map(|(q, _)| i64::try_from(*q).unwrap_or(0)).collect();
    let mut left = discount - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..amounts.len()).collect();
    crate::sort::sort_by_key(&mut order, |i| std::cmp::Reverse(exact[*i].1));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

/// The points of a checked cart; refused when they would exceed [`MAX_AMOUNT`] before the per-order cap.
fn compute(
    program: EarnView<'_>,
    cart: &Cart,
    checked: Checked<'_>,
    is_product: bool,
) -> Result<EarnResult, Problems> {
    let earn: &EarnRules = program.earn;
    let rate = checked.rate;
    let after_line_discounts: Vec<i64> =
        cart.lines.iter().map(|l| l.unit_price * l.quantity - l.discount).collect();
    let order_shares = share_discount(&after_line_discounts, cart.order_discount);
    let subtotal: i64 = after_line_discounts.iter().sum::<i64>() - cart.order_discount;

    let minimum_order_met = earn.minimum_order.is_none_or(|min| {
        i128::from(subtotal) * i128::from(rate.numerator) >= i128::from(min) * i128::from(rate.denominator)
    });

    let mut tally = Tally::new(program, &checked);
    let points_per = i128::from(rate.numerator) * i128::from(earn.rate.points);
    let first_bonus = 2;
    let first_campaign = first_bonus + earn.bonuses.len();
    let active: Vec<(usize, &Campaign)> =
        earn.campaigns.iter().enumerate().filter(|(_, c)| c.is_active(checked.now)).collect();
    let mut eligible_total: i128 = 0;

    for (i, line) in cart.lines.iter().enumerate() {
        if earn.exclusions.matches(&line.product_id, &line.categories, &line.tags) {
            continue;
        }
        let mut amount = line.unit_price * line.quantity;
        if earn.basis.after_discounts {
            amount -= line.discount + order_shares[i];
        }
        if earn.basis.include_tax {
            amount += line.tax;
        }
        let amount = i128::from(amount.max(0));
        eligible_total += amount;
        let base = amount * points_per;
        tally.add(0, base * 100);
        tally.add(1, base * (i128::from(checked.tier_multiplier) - 100));
        let matches =
            |m: &crate::program::ProductMatch| m.matches(&line.product_id, &line.categories, &line.tags);
        for (b, bonus) in earn.bonuses.iter().enumerate() {
            if matches(&bonus.applies_to) {
                tally.add(first_bonus + b, bonus_numerator(bonus, base, line.quantity, tally.denominator));
            }
        }
        for (index, campaign) in &active {
            if campaign.applies_to.as_ref().is_none_or(matches) {
                tally.add(first_campaign + index, base * (i128::from(campaign.multiplier_percent) - 100));
            }
        }
        tally.end_line();
    }
    if earn.basis.include_shipping && cart.shipping > 0 {
        let amount = i128::from(cart.shipping);
        eligible_total += amount;
        let base = amount * points_per;
        tally.add(0, base * 100);
        tally.add(1, base * (i128::from(checked.tier_multiplier) - 100));
        for (index, campaign) in &active {
            if campaign.applies_to.is_none() {
                tally.add(first_campaign + index, base * (i128::from(campaign.multiplier_percent) - 100));
            }
        }
        tally.end_line();
    }

    let mut capped = false;
    let mut components = if minimum_order_met || is_product {
        match (tally.finish(), earn.max_points_per_order) {
            (Some(components), _) => components,
            // Past what any order may earn, but the program caps orders: the cap, as the one part (parts that
            // large could not add up to it in i64).
            (None, Some(cap)) => {
                capped = true;
                vec![EarnComponent { kind: EarnComponentKind::Cap, id: None, points: cap }]
            }
            (None, None) => {
                return Err(Problems::one(
                    "",
                    message!("earns more than {MAX_AMOUNT} points, the most one order may earn"),
                ))
            }
        }
    } else {
        Vec::new()
    };
    let mut points: i64 = components.iter().map(|c| c.points).sum();
    if let Some(cap) = earn.max_points_per_order {
        if points > cap {
            components.push(EarnComponent { kind: EarnComponentKind::Cap, id: None, points: cap - points });
            points = cap;
            capped = true;
        }
    }
    let eligible = eligible_total * i128::from(rate.numerator) / i128::from(rate.denominator);
    Ok(EarnResult {
        points,
        components,
        eligible_amount: Money {
            amount: i64::try_from(eligible).unwrap_or(i64::MAX),
            currency: program.currency,
        },
        minimum_order: earn.minimum_order,
        minimum_order_met,
        capped,
    })
}

fn bonus_numerator(bonus: &Bonus, base: i128, quantity: i64, denominator: i128) -> i128 {
    let multiplied = bonus.multiplier_percent.map_or(0, |m| base * (i128::from(m) - 100));
    let fixed = bonus.extra_points_per_unit.map_or(0, |e| i128::from(e) * i128::from(quantity) * denominator);
    multiplied + fixed
}

/// What a paid order adds to tier qualification by spend: its merchandise after every discount, in
/// base-currency minor units (tax and shipping do not count). The cart is one `points_for_cart` accepted.
pub fn qualifying_spend(cart: &Cart) -> i64 {
    let merchandise: i128 = cart
        .lines
        .iter()
        .map(|l| i128::from(l.unit_price) * i128::from(l.quantity) - i128::from(l.discount))
        .sum::<i128>()
        - i128::from(cart.order_discount);
    let rate = cart.exchange_rate.unwrap_or(ExchangeRate::ONE);
    i64::try_from(merchandise.max(0) * i128::from(rate.numerator) / i128::from(rate.denominator.max(1)))
        .unwrap_or(i64::MAX)
}

/// Points to take back for a refund, in proportion to the amount refunded.
///
/// `awarded` points were earned on an order of `order_amount`; `refunded_before` was refunded earlier and
/// `refund` is refunded now (all in the same minor units). Computed on the cumulative refund, so a series of
/// partial refunds that adds up to the whole order takes back exactly `awarded`, never a point more or less.
///
/// ```
/// use loyalty_core::points_to_reverse;
/// assert_eq!(points_to_reverse(100, 3000, 0, 1000), 33);
/// assert_eq!(points_to_reverse(100, 3000, 1000, 1000), 34);
/// assert_eq!(points_to_reverse(100, 3000, 2000, 1000), 33);
/// ```
///
/// The same share applies to anything else an order carried in proportion, such as its qualifying spend.
pub fn points_to_reverse(awarded: i64, order_amount: i64, refunded_before: i64, refund: i64) -> i64 {
    if order_amount <= 0 || awarded <= 0 {
        return 0;
    }
    let share = |refunded: i64| -> i128 {
        let refunded = i128::from(refunded.clamp(0, order_amount));
        (2 * i128::from(awarded) * refunded + i128::from(order_amount)) / (2 * i128::from(order_amount))
    };
    let before = share(refunded_before);
    let after = share(refunded_before.saturating_add(refund.max(0)));
    i64::try_from(after - before).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounts_are_shared_in_whole_units_and_sum_exactly() {
        assert_eq!(share_discount(&[100, 100, 100], 100), vec![34, 33, 33]);
        assert_eq!(share_discount(&[300, 100], 100), vec![75, 25]);
        assert_eq!(share_discount(&[0, 0], 0), vec![0, 0]);
        assert_eq!(share_discount(&[5], 5), vec![5]);
    }

    #[test]
    fn rounding_modes() {
        for (n, d, floor, nearest, ceil) in
            [(0, 7, 0, 0, 0), (7, 7, 1, 1, 1), (10, 4, 2, 3, 3), (9, 4, 2, 2, 3)]
        {
            assert_eq!(round(n, d, Rounding::Floor), floor);
            assert_eq!(round(n, d, Rounding::Nearest), nearest);
            assert_eq!(round(n, d, Rounding::Ceil), ceil);
        }
    }

    #[test]
    fn refunds_reverse_in_proportion() {
        assert_eq!(points_to_reverse(100, 1000, 0, 1000), 100);
        assert_eq!(
            points_to_reverse(100, 1000, 0, 5000),
            100,
            "a refund larger than the order takes back all"
        );
        assert_eq!(points_to_reverse(100, 1000, 1000, 10), 0, "nothing left to take back");
        assert_eq!(points_to_reverse(0, 1000, 0, 500), 0);
        assert_eq!(points_to_reverse(7, 3, 0, 1), 2);
    }
}
