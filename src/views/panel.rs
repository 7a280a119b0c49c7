//! The panel's content: balance, tier card, rewards and codes, ways to earn, referral card, recent
//! activity; for guests, what joining gives and the shop's join and sign-in links; a skeleton of the same
//! size while nothing has loaded. Built fresh from the client's view on every change.

use super::{local, ElementSettings, Ui};
use crate::client::View;
use crate::dom::{self, El};
use crate::i18n::{self, Texts};
use crate::store::{PendingWrite, WriteKind, WriteStatus};
use loyalty_core::{
    qr_svg, share_intent, EarnSource, LedgerKind, MonthDay, Program, ReferralCode, ReferralStanding,
    RewardsOverview, ShareChannel, ShareIntent, ShopperState, TierMetric, TierProgress,
};

/// The sections of the panel, in order.
pub(super) fn body(view: &View, texts: &'static Texts, ui: &Ui, settings: &ElementSettings) -> Vec<El> {
    let Some(program) = view.program.as_deref() else { return skeleton(texts) };
    let tag = texts.tag;
    let now = (js_sys::Date::now() / 1000.0) as i64;
    match view.shopper.as_deref() {
        Some(shopper) => {
            let mut out = vec![balance(shopper, texts)];
            if let Some(tier) = &shopper.tier {
                out.push(tier_card(program, tier, texts));
            }
            out.push(rewards(program, Some((shopper, &shopper.rewards)), &view.outbox, texts, ui));
            if !shopper.codes.is_empty() {
                out.push(codes(program, shopper, texts, ui));
            }
            out.push(ways_to_earn(program, texts, now));
            if let Some(gift) = &program.birthday {
                out.push(birthday(gift.points, shopper, &view.outbox, texts, ui));
            }
            if let Some(referral) = &shopper.referral {
                out.push(referral_card(program, referral, texts, ui));
            }
            out.push(activity(shopper, texts));
            out
        }
        None if view.signed_in => skeleton(texts),
        None => {
            let name = local(&program.name, tag, program.locales.first());
            let mut join =
                section("join", &(texts.join_heading)(name)).child(El::new("p").text(texts.join_pitch));
            if let Some(gift) = &program.birthday {
                join = join.child(El::new("p").text(&(texts.join_birthday)(&points(texts, gift.points))));
            }
            // A visitor a friend's link brought learns what joining gives them.
            if let (Some(_), Some(terms)) = (&view.referral, &program.referral) {
                if terms.friend_points > 0 {
                    let minimum = dom::money(terms.minimum_order, program.currency, tag);
                    let line = (texts.invited_by_friend)(&points(texts, terms.friend_points), &minimum);
                    join = join.child(El::new("p").part("invited").text(&line));
                }
            }
            let mut links = El::new("p").part("links");
            if let Some(url) = &settings.join_url {
                links = links.child(El::new("a").part("primary").attr("href", url).text(texts.join));
            }
            if let Some(url) = &settings.sign_in_url {
                links = links.child(El::new("a").part("secondary").attr("href", url).text(texts.sign_in));
            }
            join = join.child(links);
            let mut out = vec![join, ways_to_earn(program, texts, now)];
            if !program.tiers.is_empty() {
                out.push(tiers_list(program, texts));
            }
            out.push(rewards(program, None, &[], texts, ui));
            out
        }
    }
}

/// The referral card: what a referral gives, the link with a copy button, the share channels (the device's
/// share sheet first where there is one), the QR code for WeChat and the counter, and what the code brought.
fn referral_card(program: &Program, referral: &ReferralStanding, texts: &Texts, ui: &Ui) -> El {
    let tag = texts.tag;
    let mut card = section("referral", texts.referral_heading);
    let Some(terms) = &program.referral else {
        // A backend that hands out codes under a program without terms: the code alone.
        return card
            .child(El::new("p").text(texts.referral_code))
            .child(El::new("p").child(El::new("code").part("code").text(&referral.code)))
            .child(referral_counts(referral, texts));
    };
    let minimum = dom::money(terms.minimum_order, program.currency, tag);
    let yours = points(texts, terms.referrer_points);
    let offer = if terms.friend_points > 0 {
        (texts.referral_terms)(&points(texts, terms.friend_points), &minimum, &yours)
    } else {
        (texts.referral_terms_referrer)(&minimum, &yours)
    };
    card = card.child(El::new("p").text(&offer));
    let code = ReferralCode::parse(&referral.code).ok();
    let origin = dom::page_origin();
    let intent =
        |channel| code.as_ref().and_then(|c| share_intent(program, tag, &origin, c, channel, None).ok());
    if let Some(copy) = intent(ShareChannel::Copy) {
        let copied = match &ui.copied {
            Some(Ok(c)) if *c == copy.link => Some(texts.copied),
            Some(Err(c)) if *c == copy.link => Some(texts.link_copy_failed),
            _ => None,
        };
        let label = El::new("label").part("field").text(texts.referral_link).child(
            El::new("input")
                .part("link")
                .attr("type", "url")
                .attr("readonly", "")
                .attr("value", &copy.link)
                .attr("dir", "ltr"),
        );
        let mut line = El::new("div").part("link-line").child(label).child(El::button(
            "secondary",
            texts.copy_link,
            "copy",
            &copy.link,
        ));
        if let Some(copied) = copied {
            line = line.child(El::new("span").part("copied").attr("role", "status").text(copied));
        }
        card = card.child(line);
        let mut channels = El::new("ul").part("share-list").attr("aria-label", texts.share_heading);
        if dom::can_share() {
            channels = channels.child(El::new("li").child(El::button(
                "primary",
                texts.share,
                "share",
                ShareChannel::Native.source(),
            )));
        }
        // The channels with a page of their own (copy, the share sheet and WeChat's QR code are above and below).
        for channel in ShareChannel::ALL {
            let Some(ShareIntent { url: Some(url), .. }) = intent(channel) else { continue };
            let name = match channel {
                ShareChannel::Email => texts.channel_email,
                ShareChannel::Whatsapp => "WhatsApp",
                ShareChannel::X => "X",
                ShareChannel::Facebook => "Facebook",
                ShareChannel::Line => "LINE",
                _ => texts.channel_weibo,
            };
            let mut link = El::new("a")
                .part("share-link")
                .attr("href", &url)
                .action("share", channel.source())
                .text(name);
            // E-mail opens the mail app; the others open the network's page in a new tab.
            if channel != ShareChannel::Email {
                link = link
                    .attr("target", "_blank")
                    .attr("rel", "noopener noreferrer")
                    .attr("aria-label", &format!("{name} {}", texts.new_tab));
            }
            channels = channels.child(El::new("li").child(link));
        }
        card = card.child(channels);
        if let Some(qr) = intent(ShareChannel::Wechat).and_then(|w| qr_svg(&w.link, terms.qr_level).ok()) {
            let size = qr.size.to_string();
            let svg = El::svg("svg")
                .attr("viewBox", &format!("0 0 {size} {size}"))
                .attr("role", "img")
                .attr("aria-label", texts.qr_label)
                .attr("shape-rendering", "crispEdges")
                .child(El::svg("rect").attr("width", &size).attr("height", &size).attr("fill", "#fff"))
                .child(El::svg("path").attr("d", &qr.path).attr("fill", "#000"));
            card = card.child(
                El::new("figure").part("qr").child(svg).child(El::new("figcaption").text(texts.qr_caption)),
            );
        }
    }
    card.child(
        El::new("p")
            .text(&format!("{} ", texts.referral_code))
            .child(El::new("code").part("code").text(&referral.code)),
    )
    .child(referral_counts(referral, texts))
}

fn referral_counts(referral: &ReferralStanding, texts: &Texts) -> El {
    let mut counts = vec![(texts.invited)(referral.invited), (texts.rewarded)(referral.rewarded)];
    if referral.points_earned > 0 {
        counts.push((texts.referral_points)(&points(texts, referral.points_earned)));
    }
    El::new("p").part("referral-counts").text(&counts.join(" · "))
}

/// The birthday gift: the day the shop knows, or a form to give it once (month and day, no year).
fn birthday(gift: i64, shopper: &ShopperState, outbox: &[PendingWrite], texts: &Texts, ui: &Ui) -> El {
    let tag = texts.tag;
    let gift = points(texts, gift);
    let out = section("birthday", texts.birthday_heading);
    if let Some(day) = shopper.birthday.as_deref().and_then(|b| MonthDay::parse(b).ok()) {
        let date = dom::month_day(day.month(), day.day(), tag);
        return out.child(El::new("p").text(&(texts.birthday_known)(&gift, &date)));
    }
    // Saved in the outbox and not answered yet (this page, or a reload while offline).
    let waiting =
        outbox.iter().any(|p| p.entry.kind == WriteKind::Birthday && p.status != WriteStatus::Expired);
    let saving = ui.saving_birthday || waiting;
    let (month, day) = ui.birthday;
    let select = |action: &str, label: &str, options: Vec<El>| {
        El::new("label")
            .part("field")
            .child(El::new("span").text(label))
            .child(El::new("select").action(action, "").attr("name", action).children(options))
    };
    let option = |value: u32, text: String, chosen: u32| {
        let mut option = El::new("option").attr("value", &value.to_string()).text(&text);
        if value == chosen {
            option = option.attr("selected", "");
        }
        option
    };
    let months = std::iter::once(option(0, "—".into(), month))
        .chain((1..=12).map(|m| option(m, dom::month_day(m, 0, tag), month)))
        .collect();
    let days = std::iter::once(option(0, "—".into(), day))
        .chain((1..=31).map(|d| option(d, i18n::number(i64::from(d), texts), day)))
        .collect();
    let mut form = El::new("div")
        .part("birthday-form")
        .child(select("birthday-month", texts.month, months))
        .child(select("birthday-day", texts.day, days));
    form = if saving {
        form.child(El::new("span").part("working").text(texts.saving))
    } else {
        form.child(El::button("primary", texts.save_birthday, "birthday", ""))
    };
    let mut out = out
        .child(El::new("p").text(&(texts.birthday_offer)(&gift)))
        .child(El::new("p").part("note").text(texts.birthday_once))
        .child(form);
    if let Some(problem) = ui.birthday_problem {
        out = out.child(El::new("p").part("problem").attr("role", "alert").text(problem));
    }
    out
}

fn section(part: &str, heading: &str) -> El {
    El::new("section").part(part).attr("aria-label", heading).child(El::new("h3").text(heading))
}

/// Grey blocks in the places and sizes of the real content, so nothing moves when it arrives.
fn skeleton(texts: &Texts) -> Vec<El> {
    let block = |class: &str| El::new("div").class(class).attr("aria-hidden", "true");
    vec![
        El::new("p").class("sr-only").text(texts.loading),
        block("skeleton big"),
        block("skeleton"),
        block("skeleton bar"),
        block("skeleton"),
        block("skeleton"),
    ]
}

/// "1,250 points" in the shopper's locale.
pub(super) fn points(texts: &Texts, n: i64) -> String {
    (texts.points)(&i18n::number(n, texts), n)
}

fn balance(shopper: &ShopperState, texts: &Texts) -> El {
    let tag = texts.tag;
    let b = &shopper.balance;
    let mut section = El::new("section")
        .part("balance")
        .attr("aria-label", texts.available)
        .child(El::new("p").part("label").text(texts.available))
        .child(El::new("p").part("points").text(&points(texts, b.available)));
    for pending in &b.pending {
        section = section.child(
            El::new("p")
                .part("pending")
                .text(&(texts.pending)(&points(texts, pending.points), &dom::date(pending.at, tag))),
        );
    }
    for expiring in &b.expiring {
        section = section.child(
            El::new("p")
                .part("expiring")
                .text(&(texts.expiring)(&points(texts, expiring.points), &dom::date(expiring.at, tag))),
        );
    }
    section
}

fn tier_name(program: &Program, id: &str, tag: &str) -> String {
    program
        .tiers
        .iter()
        .find(|t| t.id == id)
        .map_or_else(|| id.to_owned(), |t| local(&t.name, tag, program.locales.first()).to_owned())
}

/// An amount of the tier metric, as the shopper reads it.
fn metric_amount(program: &Program, metric: TierMetric, n: i64, texts: &Texts) -> String {
    match metric {
        TierMetric::Spend => dom::money(n, program.currency, texts.tag),
        TierMetric::PointsEarned => points(texts, n),
        TierMetric::Orders => i18n::number(n, texts),
    }
}

fn tier_card(program: &Program, tier: &TierProgress, texts: &Texts) -> El {
    let tag = texts.tag;
    let current = tier.current_tier_id.as_deref().map(|id| tier_name(program, id, tag));
    let mut card = section("tier", texts.tier_heading)
        .child(El::new("p").part("tier-name").text(current.as_deref().unwrap_or(texts.no_tier)));
    match tier.next_tier_id.as_deref() {
        Some(next) => {
            let next = tier_name(program, next, tag);
            let amount = metric_amount(program, tier.metric, tier.remaining, texts);
            let left = match tier.metric {
                TierMetric::Spend => (texts.to_next_spend)(&amount, &next),
                TierMetric::PointsEarned => (texts.to_next_points)(&amount, &next),
                TierMetric::Orders => (texts.to_next_orders)(&amount, tier.remaining, &next),
            };
            let percent = (tier.progress.clamp(0.0, 1.0) * 100.0).round() as i64;
            let percent_text = dom::percent(tier.progress.clamp(0.0, 1.0), tag);
            // The bar is SVG geometry, not an inline style, so a strict CSP needs nothing for it.
            let bar = El::new("div")
                .part("progress")
                .attr("role", "progressbar")
                .attr("aria-valuemin", "0")
                .attr("aria-valuemax", "100")
                .attr("aria-valuenow", &percent.to_string())
                .attr("aria-valuetext", &(texts.progress)(&percent_text, &next))
                .attr("aria-label", &(texts.progress)(&percent_text, &next))
                .child(
                    El::svg("svg")
                        .attr("viewBox", "0 0 100 4")
                        .attr("preserveAspectRatio", "none")
                        .attr("aria-hidden", "true")
                        .child(
                            El::svg("rect")
                                .attr("class", "track")
                                .attr("width", "100")
                                .attr("height", "4")
                                .attr("rx", "2"),
                        )
                        .child(
                            El::svg("rect")
                                .attr("class", "fill")
                                .attr("width", &percent.to_string())
                                .attr("height", "4")
                                .attr("rx", "2"),
                        ),
                );
            card = card.child(bar).child(El::new("p").part("to-next").text(&left));
        }
        None if tier.current_tier_id.is_some() => {
            card = card.child(El::new("p").part("to-next").text(texts.top_tier));
        }
        None => {}
    }
    if let (Some(keep), Some(current)) = (&tier.keep, &current) {
        let by = dom::date(keep.by, tag);
        let text = if keep.needed <= 0 {
            (texts.kept)(current, &by)
        } else {
            let amount = metric_amount(program, tier.metric, keep.needed, texts);
            match tier.metric {
                TierMetric::Spend => (texts.keep_spend)(&amount, current, &by),
                TierMetric::PointsEarned => (texts.keep_points)(&amount, current, &by),
                TierMetric::Orders => (texts.keep_orders)(&amount, keep.needed, current, &by),
            }
        };
        card = card.child(El::new("p").part("keep").text(&text));
    }
    let benefits = tier
        .current_tier_id
        .as_deref()
        .and_then(|id| program.tiers.iter().find(|t| t.id == id))
        .map(|t| &t.benefits)
        .filter(|b| !b.is_empty());
    if let Some(benefits) = benefits {
        card =
            card.child(El::new("h4").text(texts.benefits)).child(El::new("ul").part("benefits").children(
                benefits.iter().map(|b| El::new("li").text(local(b, tag, program.locales.first()))),
            ));
    }
    card
}

/// Every tier with its benefits (for guests).
fn tiers_list(program: &Program, texts: &Texts) -> El {
    let tag = texts.tag;
    section("tiers", texts.tier_heading).child(El::new("ul").part("tiers").children(
        program.tiers.iter().map(|tier| {
            let mut item =
                El::new("li").child(El::new("strong").text(local(&tier.name, tag, program.locales.first())));
            for benefit in &tier.benefits {
                item = item.child(El::new("span").text(local(benefit, tag, program.locales.first())));
            }
            item
        }),
    ))
}

fn reward_name(program: &Program, id: &str, tag: &str) -> String {
    program
        .rewards
        .iter()
        .find(|r| r.id == id)
        .map_or_else(|| id.to_owned(), |r| local(&r.name, tag, program.locales.first()).to_owned())
}

/// The rewards, cheapest first; for a shopper, what each needs and a redeem button with a confirmation.
fn rewards(
    program: &Program,
    shopper: Option<(&ShopperState, &RewardsOverview)>,
    outbox: &[PendingWrite],
    texts: &Texts,
    ui: &Ui,
) -> El {
    let tag = texts.tag;
    let mut section = section("rewards", texts.rewards_heading);
    if program.rewards.is_empty() {
        return section.child(El::new("p").text(texts.no_rewards));
    }
    if let Some(Ok(redemption)) = &ui.redeemed {
        section = section.child(
            El::new("div")
                .part("redeemed")
                .child(El::new("p").text(&(texts.redeemed)(&reward_name(
                    program,
                    &redemption.reward_id,
                    tag,
                ))))
                .child(code_line(
                    &redemption.code,
                    &super::code_handle(&redemption.reward_id, redemption.created_at),
                    texts,
                    ui,
                )),
        );
    }
    if let Some(Err(message)) = &ui.redeemed {
        section = section.child(El::new("p").part("error").attr("role", "alert").text(message));
    }
    // Writes in the outbox: still being sent (they survive a reload), being checked against the shopper's
    // state (too old to send again), or not found there.
    for write in outbox.iter().filter(|w| w.entry.kind == WriteKind::Redeem) {
        let name = reward_name(program, &write.entry.reward_id, tag);
        let (part, text) = match write.status {
            WriteStatus::Expired => ("error", (texts.not_completed)(&name)),
            WriteStatus::Sending | WriteStatus::Waiting => ("notice", (texts.sending)(&name)),
            WriteStatus::Checking => ("notice", (texts.checking)(&name)),
        };
        section = section.child(El::new("p").part(part).text(&text));
    }
    if let Some((_, overview)) = shopper {
        if overview.blocked {
            section = section.child(El::new("p").part("notice").text(texts.blocked));
        }
    }
    let mut list: Vec<_> = program.rewards.iter().collect();
    list.sort_by_key(|r| r.cost);
    let items = list.into_iter().map(|reward| {
        let name = local(&reward.name, tag, program.locales.first());
        let mut item = El::new("li")
            .part("reward")
            .child(El::new("span").part("reward-name").text(name))
            .child(El::new("span").part("cost").text(&points(texts, reward.cost)));
        if let Some((state, overview)) = shopper {
            let affordable = !overview.blocked && overview.affordable.contains(&reward.id);
            if ui.redeeming.as_deref() == Some(reward.id.as_str()) {
                item = item.child(El::new("span").part("working").text(texts.redeeming));
            } else if ui.confirming.as_deref() == Some(reward.id.as_str()) && affordable {
                item = item.child(
                    El::new("div")
                        .part("confirm")
                        .attr("role", "group")
                        .attr("aria-label", &(texts.confirm)(name, &points(texts, reward.cost)))
                        .child(El::new("p").text(&(texts.confirm)(name, &points(texts, reward.cost))))
                        .child(El::button("primary", texts.redeem, "confirm", &reward.id))
                        .child(El::button("secondary", texts.cancel, "cancel", &reward.id)),
                );
            } else if affordable {
                let busy = ui.redeeming.is_some();
                let mut button = El::button("primary", texts.redeem, "redeem", &reward.id)
                    .attr("aria-label", &format!("{} {}", texts.redeem, name));
                if busy {
                    button = button.attr("disabled", "");
                }
                item = item.child(button);
            } else {
                // How many points are missing is core's redemption check, the same the server runs.
                let missing =
                    match loyalty_core::check_redemption(program, &reward.id, state.balance.available) {
                        Err(loyalty_core::RedeemError::NotEnoughPoints { missing }) => missing,
                        _ => 0,
                    };
                item = item.child(
                    El::new("span")
                        .part("missing")
                        .text(&(texts.more_needed)(&i18n::number(missing, texts), missing)),
                );
            }
        }
        item
    });
    section.child(El::new("ul").part("rewards-list").children(items))
}

/// A discount code with its copy button (and the copy's outcome). The button names the code by `handle`, and
/// its accessible description is the code's element (no attribute holds the code).
fn code_line(code: &str, handle: &str, texts: &Texts, ui: &Ui) -> El {
    let copied = match &ui.copied {
        Some(Ok(c)) if c == code => Some(texts.copied),
        Some(Err(c)) if c == code => Some(texts.copy_failed),
        _ => None,
    };
    let described = format!("code-{handle}");
    let mut line = El::new("p")
        .part("code-line")
        .child(El::new("code").part("code").attr("id", &described).text(code))
        .child(El::button("secondary", texts.copy, "copy-code", handle).attr("aria-describedby", &described));
    if let Some(copied) = copied {
        line = line.child(El::new("span").part("copied").text(copied));
    }
    line
}

fn codes(program: &Program, shopper: &ShopperState, texts: &Texts, ui: &Ui) -> El {
    let tag = texts.tag;
    section("codes", texts.codes_heading).child(El::new("ul").part("codes").children(
        shopper.codes.iter().map(|c| {
            let mut item = El::new("li")
                .child(El::new("span").text(&reward_name(program, &c.reward_id, tag)))
                .child(code_line(&c.code, &super::code_handle(&c.reward_id, c.created_at), texts, ui));
            if c.used {
                item = item.attr("data-used", "").child(El::new("span").part("used").text(texts.used));
            }
            item
        }),
    ))
}

/// Ways to earn, read from the program: the base rate, product bonuses, campaigns running now, tier
/// multipliers.
fn ways_to_earn(program: &Program, texts: &Texts, now: i64) -> El {
    let tag = texts.tag;
    let fallback = program.locales.first();
    let times = |percent: u32| dom::decimal(f64::from(percent) / 100.0, tag);
    let rate = &program.earn.rate;
    let mut lines = vec![(texts.rate)(
        &i18n::number(rate.points, texts),
        rate.points,
        &dom::money(rate.per_amount, program.currency, tag),
    )];
    for bonus in &program.earn.bonuses {
        let name = local(&bonus.name, tag, fallback);
        if let Some(percent) = bonus.multiplier_percent {
            lines.push((texts.multiplier)(name, &times(percent)));
        }
        if let Some(extra) = bonus.extra_points_per_unit {
            lines.push((texts.extra_each)(name, &points(texts, extra)));
        }
    }
    for campaign in program.earn.campaigns.iter().filter(|c| c.is_active(now)) {
        lines.push((texts.campaign)(
            local(&campaign.name, tag, fallback),
            &times(campaign.multiplier_percent),
            &dom::date(campaign.ends_at, tag),
        ));
    }
    for tier in program.tiers.iter().filter(|t| t.earn_multiplier_percent != 100) {
        lines.push((texts.tier_multiplier)(
            local(&tier.name, tag, fallback),
            &times(tier.earn_multiplier_percent),
        ));
    }
    section("earn", texts.earn_heading)
        .child(El::new("ul").part("ways").children(lines.iter().map(|l| El::new("li").text(l))))
}

fn activity(shopper: &ShopperState, texts: &Texts) -> El {
    let tag = texts.tag;
    let section = section("activity", texts.activity_heading);
    if shopper.activity.is_empty() {
        return section.child(El::new("p").text(texts.no_activity));
    }
    section.child(El::new("ul").part("activity-list").children(shopper.activity.iter().take(20).map(|a| {
        let (what, sign) = match a.kind {
            LedgerKind::Earn => (texts.earned, 1),
            LedgerKind::Redeem => (texts.spent, -1),
            LedgerKind::Reverse => (texts.reversed, -1),
            LedgerKind::Adjust => (texts.adjusted, 1),
        };
        let source = a.source.map(|s| match s {
            EarnSource::Purchase => texts.from_purchase,
            EarnSource::Referral => texts.from_referral,
            EarnSource::Birthday => texts.from_birthday,
            EarnSource::Signup => texts.from_signup,
            EarnSource::Review => texts.from_review,
            EarnSource::Adjustment => texts.adjusted,
        });
        let label = match (source, &a.reason) {
            (_, Some(reason)) if !reason.is_empty() => format!("{what} · {reason}"),
            (Some(source), _) => format!("{what} · {source}"),
            _ => what.to_owned(),
        };
        let signed = sign * a.points;
        let amount = if signed >= 0 {
            format!("+{}", i18n::number(signed, texts))
        } else {
            format!("−{}", i18n::number(-signed, texts))
        };
        El::new("li")
            .child(El::new("span").part("when").text(&dom::date(a.at, tag)))
            .child(El::new("span").part("what").text(&label))
            .child(El::new("span").part(if signed >= 0 { "plus" } else { "minus" }).text(&amount))
    })))
}
