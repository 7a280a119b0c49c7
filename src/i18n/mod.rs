//! Everything a shopper reads, per locale. One file per locale (`en.rs`, `zh_cn.rs`) fills a `Texts`;
//! adding a locale is one more file and one line in `LOCALES`. Numbers, money and dates are formatted by the
//! browser's `Intl` (see `dom`); the functions here only place them in a sentence, so word order and
//! plurals stay with the language.

mod en;
mod zh_cn;

/// The sentences of one locale. Functions take values already formatted for the locale, plus the raw
/// count where a plural depends on it.
pub(crate) struct Texts {
    /// The BCP 47 tag, also handed to `Intl`.
    pub tag: &'static str,
    /// The launcher's name for screen readers and guests ("Rewards").
    pub launcher: &'static str,
    pub close: &'static str,
    pub loading: &'static str,
    pub stale: &'static str,
    pub offline: &'static str,
    pub error: &'static str,
    pub retry: &'static str,
    /// "1,250 points".
    pub points: fn(&str, i64) -> String,
    pub available: &'static str,
    /// (points, date): "120 points arrive on Mar 5".
    pub pending: fn(&str, &str) -> String,
    /// (points, date): "80 points expire on Mar 5".
    pub expiring: fn(&str, &str) -> String,
    /// "Your balance is now 1,250 points", for screen readers when it changes.
    pub balance_now: fn(&str) -> String,
    pub tier_heading: &'static str,
    /// Shown below the first tier's threshold.
    pub no_tier: &'static str,
    /// (amount left, formatted for the metric; next tier): "Spend ¥120.00 more to reach Gold".
    pub to_next_spend: fn(&str, &str) -> String,
    pub to_next_points: fn(&str, &str) -> String,
    pub to_next_orders: fn(&str, i64, &str) -> String,
    pub top_tier: &'static str,
    /// (amount, tier, date): "Spend ¥300.00 by Dec 31 to keep Gold".
    pub keep_spend: fn(&str, &str, &str) -> String,
    pub keep_points: fn(&str, &str, &str) -> String,
    pub keep_orders: fn(&str, i64, &str, &str) -> String,
    /// (tier, date): "Gold is yours until Dec 31".
    pub kept: fn(&str, &str) -> String,
    /// (percent, next tier): the progress bar's text equivalent.
    pub progress: fn(&str, &str) -> String,
    pub benefits: &'static str,
    pub rewards_heading: &'static str,
    pub redeem: &'static str,
    /// (reward, cost): "Redeem ¥10 off for 500 points?"
    pub confirm: fn(&str, &str) -> String,
    pub cancel: &'static str,
    pub redeeming: &'static str,
    /// (reward): "¥10 off is yours. Use this code at checkout:"
    pub redeemed: fn(&str) -> String,
    pub redeem_failed: &'static str,
    /// (reward): a redemption still in the outbox.
    pub sending: fn(&str) -> String,
    /// (reward): a redemption too old to send again, waiting for the shopper's state to show its outcome.
    pub checking: fn(&str) -> String,
    /// (reward): a redemption too old to send again that the shopper's state does not show.
    pub not_completed: fn(&str) -> String,
    /// The backend refused the shopper's signature (expired): sign in again.
    pub session_expired: &'static str,
    /// (number, count): "120 more points needed".
    pub more_needed: fn(&str, i64) -> String,
    pub blocked: &'static str,
    pub no_rewards: &'static str,
    pub codes_heading: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub copy_failed: &'static str,
    pub used: &'static str,
    pub earn_heading: &'static str,
    /// (points, amount): "Earn 1 point for every ¥1.00".
    pub rate: fn(&str, i64, &str) -> String,
    /// (bonus name, multiplier): "Tea of the month: 2× points".
    pub multiplier: fn(&str, &str) -> String,
    /// (bonus name, points): "Gift sets: 50 extra points each".
    pub extra_each: fn(&str, &str) -> String,
    /// (campaign, multiplier, date): "Double days: 2× points until Mar 5".
    pub campaign: fn(&str, &str, &str) -> String,
    /// (tier, multiplier): "Gold members earn 1.5× points".
    pub tier_multiplier: fn(&str, &str) -> String,
    pub birthday_heading: &'static str,
    /// (points): why to give the birthday.
    pub birthday_offer: fn(&str) -> String,
    pub birthday_once: &'static str,
    pub month: &'static str,
    pub day: &'static str,
    pub save_birthday: &'static str,
    pub saving: &'static str,
    pub birthday_saved: &'static str,
    pub birthday_failed: &'static str,
    /// No month or day chosen, or a day the month does not have.
    pub birthday_invalid: &'static str,
    /// (points, day of the year): the gift of a shopper whose birthday the shop knows.
    pub birthday_known: fn(&str, &str) -> String,
    /// (points): one of the things joining gives.
    pub join_birthday: fn(&str) -> String,
    pub referral_heading: &'static str,
    pub referral_code: &'static str,
    /// (count): "3 friends joined".
    pub invited: fn(i64) -> String,
    /// (count): "2 friends ordered".
    pub rewarded: fn(i64) -> String,
    /// (points earned from referrals): "500 points earned".
    pub referral_points: fn(&str) -> String,
    /// (friend's points, minimum order, referrer's points): what a referral gives both.
    pub referral_terms: fn(&str, &str, &str) -> String,
    /// (minimum order, referrer's points): what a referral gives when the friend gets nothing extra.
    pub referral_terms_referrer: fn(&str, &str) -> String,
    /// (friend's points, minimum order): a guest who landed with a friend's link.
    pub invited_by_friend: fn(&str, &str) -> String,
    pub referral_link: &'static str,
    pub copy_link: &'static str,
    pub link_copy_failed: &'static str,
    /// The device's share sheet.
    pub share: &'static str,
    pub share_heading: &'static str,
    pub channel_email: &'static str,
    pub channel_weibo: &'static str,
    /// Added to the accessible name of a link that opens a new tab.
    pub new_tab: &'static str,
    pub qr_label: &'static str,
    pub qr_caption: &'static str,
    pub activity_heading: &'static str,
    pub no_activity: &'static str,
    pub earned: &'static str,
    pub spent: &'static str,
    pub reversed: &'static str,
    pub adjusted: &'static str,
    pub from_purchase: &'static str,
    pub from_referral: &'static str,
    pub from_birthday: &'static str,
    pub from_signup: &'static str,
    pub from_review: &'static str,
    /// (program name): "Join Camellia Club".
    pub join_heading: fn(&str) -> String,
    pub join_pitch: &'static str,
    pub join: &'static str,
    pub sign_in: &'static str,
    /// (points, count): "Earn 120 points".
    pub earn_badge: fn(&str, i64) -> String,
}

/// A whole number as the locale writes it: `1,250`, `-12,000` (the shell's rule, so both modules group alike).
pub(crate) fn number(n: i64, texts: &Texts) -> String {
    loyalty_shell::texts::number(n, loyalty_shell::texts::texts(texts.tag))
}

/// Every locale, the fallback first.
const LOCALES: &[&Texts] = &[&en::TEXTS, &zh_cn::TEXTS];

/// The texts for a BCP 47 tag: an exact match, else the same language (`zh-Hans-CN`, `zh` -> `zh-CN`),
/// else English.
pub(crate) fn texts(tag: &str) -> &'static Texts {
    let tag = tag.trim();
    let language = |t: &str| t.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    LOCALES
        .iter()
        .find(|t| t.tag.eq_ignore_ascii_case(tag))
        .or_else(|| LOCALES.iter().find(|t| language(t.tag) == language(tag)))
        .copied()
        .unwrap_or(LOCALES[0])
}

/// Whether `tag` names a locale the widget speaks (for checking a merchant's setting).
pub(crate) fn supported(tag: &str) -> bool {
    let language = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    LOCALES.iter().any(|t| t.tag.split('-').next().is_some_and(|l| l.eq_ignore_ascii_case(&language)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_grouped_by_three() {
        for (n, expected) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1,000"),
            (1_250, "1,250"),
            (-12_000, "-12,000"),
            (1_000_000, "1,000,000"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(number(n, texts("en")), expected);
            assert_eq!(number(n, texts("zh-CN")), expected);
        }
    }

    #[test]
    fn locales_are_matched_by_tag_then_language() {
        for (tag, expected) in [
            ("en", "en"),
            ("en-GB", "en"),
            ("zh-CN", "zh-CN"),
            ("zh-cn", "zh-CN"),
            ("zh", "zh-CN"),
            ("zh-Hans-CN", "zh-CN"),
            ("zh_CN", "zh-CN"),
            ("fr-FR", "en"),
            ("", "en"),
        ] {
            assert_eq!(texts(tag).tag, expected, "{tag}");
        }
        assert!(supported("zh-TW") && supported("EN") && !supported("fr"));
    }

    #[test]
    fn english_plurals_and_chinese_word_order() {
        let en = texts("en");
        assert_eq!((en.points)("1", 1), "1 point");
        assert_eq!((en.points)("1,250", 1250), "1,250 points");
        assert_eq!((en.earn_badge)("1", 1), "Earn 1 point");
        assert_eq!((en.to_next_spend)("¥120.00", "Gold"), "Spend ¥120.00 more to reach Gold");
        let zh = texts("zh-CN");
        assert_eq!((zh.points)("1,250", 1250), "1,250 积分");
        assert_eq!((zh.to_next_spend)("¥120.00", "黄金会员"), "再消费 ¥120.00 即可升级为黄金会员");
    }
}
