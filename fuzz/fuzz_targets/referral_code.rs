//! Fuzz target `referral_code`: text as a shopper types a referral code, through `ReferralCode::parse` (the
//! check is `loyalty_fuzz::check_referral_code`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loyalty_fuzz::check_referral_code(data));
