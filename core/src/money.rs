//! Money as integer minor units with an ISO 4217 currency, and exchange rates as exact rationals.
//!
//! There are no floats here: a price of ¥12.34 is `Money { amount: 1234, currency: CNY }`, and ¥1,000 is
//! `1000` JPY because the yen has no minor unit. Converting between currencies uses a rate supplied by the
//! backend as a fraction of minor units, so points are always counted in the program's base currency and
//! never per unit of whatever currency the page displays.

use crate::json::{FromJson, Json, ReadJson, Reader};
use crate::problems::{quoting, Checker};
use serde::{Serialize, Serializer};
use std::fmt;

/// An ISO 4217 currency code that this build knows the minor-unit exponent of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Currencies and their number of decimal places (ISO 4217). Codes not listed are refused, because a
/// wrong exponent would misstate every amount by a factor of ten or more.
const EXPONENTS: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MOP", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("RUB", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    /// Chinese yuan renminbi, the demo's default.
    pub const CNY: Currency = Currency(*b"CNY");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = Currency(*b"JPY");

    /// Parses an ISO 4217 code such as `"CNY"`; unknown or malformed codes are refused. The message is kept in
    /// every build (it is not a `message!`): the shell reports it for the script tag's `data-currency`, in the
    /// words `createClient` uses.
    pub fn parse(code: &str) -> Result<Currency, String> {
        match Currency::known(code) {
            Some(currency) => Ok(currency),
            None if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
                Err(quoting("unsupported currency ", code))
            }
            _ => {
                Err(quoting("must be an ISO 4217 code of three capital letters such as \"CNY\", got ", code))
            }
        }
    }

    /// The currency of a code this build knows, without saying why not.
    pub fn known(code: &str) -> Option<Currency> {
        let known = EXPONENTS.iter().any(|(c, _)| *c == code);
        match code.as_bytes() {
            [a, b, c] if known => Some(Currency([*a, *b, *c])),
            _ => None,
        }
    }

    /// The code, e.g. `"CNY"`.
    pub fn code(&self) -> &str {
        // Every value is built from a code of the table (see `known`), so this always finds it; looked up rather
        // than decoded from the bytes, which would link a UTF-8 validator into the shell for three letters.
        EXPONENTS.iter().find(|(c, _)| c.as_bytes() == self.0).map_or("XXX", |(c, _)| c)
    }

    /// Decimal places of the minor unit: 2 for CNY, 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        EXPONENTS.iter().find(|(c, _)| c.as_bytes() == self.0).map_or(2, |(_, e)| *e)
    }

    /// Minor units in one major unit: 100 for CNY, 1 for JPY.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.exponent()))
    }

    /// Reads a decimal amount in major units, as schema.org's `price` writes it (`"12.50"`, `"1299"`,
    /// `"0.5"`), into minor units, exactly. More decimals than the currency has are refused rather than
    /// rounded (a page that says ¥12.345 is wrong, and guessing would misstate the points).
    pub fn parse_decimal(&self, text: &str) -> Result<i64, String> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let exponent = usize::from(self.exponent());
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(message!("must be a decimal amount such as \"12.50\", got \"{text}\""));
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > exponent {
            return Err(message!("has more than {exponent} decimals for {self}, got \"{text}\""));
        }
        // The minor units' digits: the fraction padded with zeros to the currency's decimals (joined by hand,
        // as the shell builds without the formatting machinery).
        let mut padded = String::with_capacity(whole.len() + exponent);
        padded.push_str(whole);
        padded.push_str(fraction);
        padded.extend(std::iter::repeat_n('0', exponent - fraction.len()));
        match padded.trim_start_matches('0').parse::<i64>() {
            Ok(minor) if minor <= crate::program::MAX_AMOUNT => Ok(minor),
            Err(_) if padded.bytes().all(|b| b == b'0') => Ok(0),
            _ => Err(message!("is too large, got \"{text}\"")),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl FromJson for Currency {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        let code = String::from_json(value, c)?;
        Currency::parse(&code).map_err(|message| c.fail(message)).ok()
    }
}

impl ReadJson for Currency {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        Currency::known(&String::read(r, depth)?)
    }

    fn placeholder() -> Self {
        Currency::CNY
    }
}

serde_through_json!(Currency);

wire_struct! {
    lenient;
    /// An amount of money: integer minor units of one currency.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Money {
        /// Minor units (fen for CNY, cents for USD, yen for JPY). Negative for refunds.
        pub amount: i64,
        /// The currency the amount is in.
        pub currency: Currency,
    }
}

impl fmt::Display for Money {
    /// Formats without locale conventions, e.g. `12.34 CNY`; the widget formats for display with `Intl`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        if exp == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let unit = 10_u64.pow(exp);
        write!(f, "{sign}{}.{:0width$} {}", abs / unit, abs % unit, self.currency, width = exp as usize)
    }
}

wire_struct! {
    lenient;
    /// Converts amounts of another currency into the program's base currency:
    /// `base minor units = other minor units × numerator / denominator`, kept exact until points are rounded.
    ///
    /// Example: 1 USD cent is worth 7.2 fen, so USD -> CNY is `{ numerator: 36, denominator: 5 }`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ExchangeRate {
        /// Minor units of the base currency ...
        pub numerator: i64,
        /// ... per this many minor units of the other currency.
        pub denominator: i64,
    }
}

impl ExchangeRate {
    /// The identity rate, for amounts already in the base currency.
    pub const ONE: ExchangeRate = ExchangeRate { numerator: 1, denominator: 1 };

    /// Largest numerator or denominator accepted, which keeps exact arithmetic far from overflow.
    pub const MAX_TERM: i64 = 1_000_000_000;

    /// Checks both terms are in `1..=MAX_TERM`.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [("numerator", self.numerator), ("denominator", self.denominator)] {
            if !(1..=Self::MAX_TERM).contains(&v) {
                return Err(message!("{name} must be between 1 and {}, got {v}", Self::MAX_TERM));
            }
        }
        Ok(())
    }
}
