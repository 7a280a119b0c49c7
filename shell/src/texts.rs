//! The sentences the shell shows (badges, the launcher's button), per locale. The full widget's `i18n` takes
//! these same ones from here, so a badge reads the same whichever module drew it.

/// What one locale says on a product page before anyone opens the panel.
pub struct ShellTexts {
    /// The BCP 47 tag, also handed to `Intl`.
    pub tag: &'static str,
    /// Between groups of three digits in whole numbers (`1,250`); see [`number`].
    pub thousands: &'static str,
    /// The launcher's name for screen readers and guests ("Rewards").
    pub launcher: &'static str,
    /// "1,250 points" (the number formatted, and the count for the plural).
    pub points: fn(&str, i64) -> String,
    /// "Earn 120 points" on a product.
    pub earn_badge: fn(&str, i64) -> String,
    /// A product that earns nothing.
    pub no_points: &'static str,
    /// Appended when the product alone is below the minimum order (the minimum, formatted as money).
    pub from_minimum: fn(&str) -> String,
    /// "This order earns 360 points" on a cart.
    pub cart_badge: fn(&str, i64) -> String,
    /// Appended when the per-order cap cut the points.
    pub capped: &'static str,
}

/// The parts of a sentence, one after the other. Joined by hand rather than with `format!` or `concat`, whose
/// generic code and panics link more into the shell's wasm than the sentences need.
pub fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

fn plural(n: i64, one: &'static str, other: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        other
    }
}

/// English.
pub const EN: ShellTexts = ShellTexts {
    tag: "en",
    thousands: ",",
    launcher: "Rewards",
    points: |n, c| join(&[n, " ", plural(c, "point", "points")]),
    earn_badge: |p, c| join(&["Earn ", p, " ", plural(c, "point", "points")]),
    no_points: "This product earns no points",
    from_minimum: |m| join(&[" on orders from ", m]),
    cart_badge: |p, c| join(&["This order earns ", p, " ", plural(c, "point", "points")]),
    capped: "the most one order can earn",
};

/// Simplified Chinese.
pub const ZH_CN: ShellTexts = ShellTexts {
    tag: "zh-CN",
    thousands: ",",
    launcher: "会员积分",
    points: |n, _| join(&[n, " 积分"]),
    earn_badge: |p, _| join(&["购买可得 ", p, " 积分"]),
    no_points: "此商品不参与积分",
    from_minimum: |m| join(&["（订单满 ", m, "）"]),
    cart_badge: |p, _| join(&["本单可得 ", p, " 积分"]),
    capped: "已达每单积分上限",
};

/// Every locale, the fallback first.
pub const LOCALES: [&ShellTexts; 2] = [&EN, &ZH_CN];

/// The locale for a BCP 47 tag: exact, else by language (`zh-TW` reads zh-CN), else English.
pub fn texts(tag: &str) -> &'static ShellTexts {
    let tag = tag.trim();
    // Compared without case rather than lowercased, which would allocate two strings per locale.
    fn language(tag: &str) -> &str {
        tag.split(['-', '_']).next().unwrap_or("")
    }
    LOCALES
        .iter()
        .find(|t| t.tag.eq_ignore_ascii_case(tag))
        .or_else(|| LOCALES.iter().find(|t| language(t.tag).eq_ignore_ascii_case(language(tag))))
        .copied()
        .unwrap_or(LOCALES[0])
}

/// A whole number grouped by three (`1,250`). Grouped here rather than by `Intl`: the page's first
/// `Intl.NumberFormat` costs about 40 ms of main thread in Chromium, which a badge would pay on every page.
pub fn number(n: i64, texts: &ShellTexts) -> String {
    let digits = decimal(n.unsigned_abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * texts.thousands.len() + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(texts.thousands);
        }
        out.push(digit);
    }
    out
}

/// A whole number's digits, as `to_string` writes them, but by hand: `to_string` links the formatting
/// machinery into the shell's wasm.
pub fn decimal(n: u64) -> String {
    let mut digits = [0_u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits[start..].iter().map(|d| char::from(*d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_grouped_by_three() {
        for (n, expected) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (-1_250, "-1,250"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(number(n, &EN), expected);
        }
    }

    #[test]
    fn a_tag_finds_its_locale_by_language() {
        for (tag, expected) in [
            ("zh-CN", "zh-CN"),
            ("zh-TW", "zh-CN"),
            ("ZH", "zh-CN"),
            ("en-GB", "en"),
            ("fr", "en"),
            ("", "en"),
        ] {
            assert_eq!(texts(tag).tag, expected, "{tag}");
        }
    }

    #[test]
    fn badges_speak_both_locales() {
        assert_eq!((EN.earn_badge)("1", 1), "Earn 1 point");
        assert_eq!((EN.earn_badge)("1,250", 1250), "Earn 1,250 points");
        assert_eq!((ZH_CN.earn_badge)("1,250", 1250), "购买可得 1,250 积分");
        assert_eq!((EN.cart_badge)("360", 360), "This order earns 360 points");
        assert_eq!((ZH_CN.cart_badge)("360", 360), "本单可得 360 积分");
        assert_eq!((EN.points)("1", 1), "1 point");
        assert_eq!((ZH_CN.points)("5", 5), "5 积分");
    }
}
