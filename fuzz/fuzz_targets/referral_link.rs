//! Fuzz target `referral_link`: landing URLs, page origins, pages and landing queries, through
//! `referral_link`, `share_intent` and `landing_code` (the check is `loyalty_fuzz::check_referral_link`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loyalty_fuzz::check_referral_link(data));
