//! The one JSON reader of the project, and decoding of the wire types with every problem reported at its
//! path.
//!
//! Why not serde's `Deserialize` here: in the browser the decode path is most of the widget's size (serde +
//! serde-wasm-bindgen + path tracking measured 92 KB gzipped for this crate's API, this reader about a
//! quarter of that; see ARCHITECTURE.md), serde stops at the first error where a merchant wants every one, and
//! our wire model has no floats, so numbers are read as exact integers and anything else is an error that
//! quotes the number as written. Output still goes through serde's `Serialize`, whose camelCase names the
//! decoders here derive the same way (and a test checks that every type round-trips).
//!
//! Wire structs and enums are declared with `wire_struct!` and `wire_enum!`, which write the type and its
//! decoder from one field list, so names cannot drift between them.

use crate::problems::{Checker, Problems};
use std::collections::BTreeMap;

/// A parsed JSON document. Numbers that are integers within `i64` are [`Json::Int`]; any other number is
/// kept as written in [`Json::Number`] so an error can quote it.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// An integer in the `i64` range, written without fraction or exponent.
    Int(i64),
    /// Any other number, as written (`1.5`, `1e3`, `99999999999999999999`).
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in document order (keys are unique).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// What kind of value this is, for messages: "a string", "an array" ...
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) | Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Deepest nesting accepted; deeper documents are refused rather than risking the stack.
pub const MAX_DEPTH: usize = 64;

/// The message for a document nested deeper than [`MAX_DEPTH`].
const TOO_DEEP: &str = "nesting deeper than 64";

/// Why JSON text could not be read: what was expected, and where. It becomes a message only when reported,
/// so a reader that only wants yes or no (the shell's [`ReadJson`]) links no formatting.
#[derive(Debug)]
pub struct Fault {
    what: &'static str,
    /// The member name, for a duplicate.
    name: Option<String>,
    pos: usize,
    at_end: bool,
}

impl Fault {
    /// "expected ':' at byte 12", "duplicate member \"a\" at byte 9", "unterminated string at the end of the
    /// text".
    /// Empty in a build without messages (see [`crate::message!`]).
    pub fn message(&self) -> String {
        if !cfg!(feature = "messages") {
            return String::new();
        }
        let what = match &self.name {
            Some(name) => crate::message!("{} \"{name}\"", self.what),
            None => self.what.to_owned(),
        };
        if self.at_end {
            crate::message!("{what} at the end of the text")
        } else {
            crate::message!("{what} at byte {}", self.pos)
        }
    }
}

impl From<Fault> for String {
    fn from(fault: Fault) -> String {
        fault.message()
    }
}

/// Parses JSON text (RFC 8259). Errors say what was expected and at which byte.
pub fn parse(text: &str) -> Result<Json, Problems> {
    let mut parser = Parser { bytes: text.as_bytes(), text, pos: 0 };
    let result = parser.skip_ws().and_then(|()| parser.value(0)).and_then(|value| {
        parser.skip_ws()?;
        if parser.pos < parser.bytes.len() {
            Err(parser.error("unexpected text after the JSON value"))
        } else {
            Ok(value)
        }
    });
    result.map_err(|fault| Problems::one("", format!("invalid JSON: {}", fault.message())))
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    /// The bytes not yet read (none past the end), without the slicing panic and the formatting it links.
    fn rest(&self) -> &[u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn error(&self, what: &'static str) -> Fault {
        // A build without messages never says what went wrong (the quiet reader only says no), so it keeps
        // none of these texts.
        let what = if cfg!(feature = "messages") { what } else { "" };
        Fault { what, name: None, pos: self.pos, at_end: self.pos >= self.bytes.len() }
    }

    fn skip_ws(&mut self) -> Result<(), Fault> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        Ok(())
    }

    /// Passes over `word` (`null`, `true`, `false`). It returns no value, so that the quiet reader, which only
    /// skips literals or reads booleans, builds and drops no tree node.
    fn literal(&mut self, word: &str) -> Result<(), Fault> {
        if self.rest().starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, Fault> {
        if depth > MAX_DEPTH {
            return Err(self.error(TOO_DEEP));
        }
        match self.bytes.get(self.pos) {
            None => Err(self.error("expected a JSON value")),
            Some(b'n') => self.literal("null").map(|()| Json::Null),
            Some(b't') => self.literal("true").map(|()| Json::Bool(true)),
            Some(b'f') => self.literal("false").map(|()| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws()?;
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    self.skip_ws()?;
                    items.push(self.value(depth + 1)?);
                    self.skip_ws()?;
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.error("expected ',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members: Vec<(String, Json)> = Vec::new();
                let mut seen: Option<std::collections::BTreeSet<String>> = None;
                self.skip_ws()?;
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.skip_ws()?;
                    if self.bytes.get(self.pos) != Some(&b'"') {
                        return Err(self.error("expected a member name in double quotes"));
                    }
                    let start = self.pos;
                    let key = self.string()?;
                    // Duplicate names make a document mean different things to different readers: refuse.
                    let duplicate = match &mut seen {
                        Some(set) => !set.insert(key.clone()),
                        None => {
                            let dup = members.iter().any(|(k, _)| *k == key);
                            if members.len() >= 16 {
                                seen = Some(
                                    members.iter().map(|(k, _)| k.clone()).chain([key.clone()]).collect(),
                                );
                            }
                            dup
                        }
                    };
                    if duplicate {
                        self.pos = start;
                        return Err(Fault { name: Some(key), ..self.error("duplicate member") });
                    }
                    self.skip_ws()?;
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return Err(self.error("expected ':'"));
                    }
                    self.pos += 1;
                    self.skip_ws()?;
                    let value = self.value(depth + 1)?;
                    members.push((key, value));
                    self.skip_ws()?;
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(self.error("expected ',' or '}'")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, Fault> {
        let start = self.pos;
        let integral = self.number_end()?;
        let text = self.text.get(start..self.pos).ok_or_else(|| self.error("invalid number"))?;
        Ok(match text.parse::<i64>() {
            Ok(n) if integral => Json::Int(n),
            _ => Json::Number(text.to_owned()),
        })
    }

    /// Passes over a number, checking its form; true when it has no fraction or exponent.
    fn number_end(&mut self) -> Result<bool, Fault> {
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 || (n > 1 && self.bytes.get(int_start) == Some(&b'0')) {
            return Err(self.error("invalid number"));
        }
        let mut integral = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            integral = false;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            integral = false;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(integral)
    }

    fn hex4(&mut self) -> Result<u32, Fault> {
        let digits =
            self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.error("invalid \\u escape"))?;
        let mut value = 0;
        for d in digits {
            let v = (*d as char).to_digit(16).ok_or_else(|| self.error("invalid \\u escape"))?;
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }

    fn string(&mut self) -> Result<String, Fault> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The input is a &str and we stopped at an ASCII byte (or the end), so this is a char boundary and
            // `get` always gives the text; it stands in for slicing, whose panic links the formatting machinery.
            out.push_str(self.text.get(start..self.pos).ok_or_else(|| self.error("invalid string"))?);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = self.bytes.get(self.pos).copied();
                    self.pos += 1;
                    match escaped {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first) {
                                if !self.rest().starts_with(b"\\u") {
                                    return Err(self.error("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(self.error("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else {
                                first
                            };
                            out.push(
                                char::from_u32(code)
                                    .ok_or_else(|| self.error("unpaired surrogate in \\u escape"))?,
                            );
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.error("control character in string")),
            }
        }
    }
}

/// A pull reader over JSON text, for documents too large to hold as a [`Json`] tree: the caller walks
/// objects and arrays and reads each value as the type it wants, and skips what it does not need without
/// allocating. Errors say what was expected and at which byte, as [`parse`]'s do.
pub struct Reader<'a>(Parser<'a>);

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader(Parser { bytes: text.as_bytes(), text, pos: 0 })
    }

    fn peek(&mut self) -> Option<u8> {
        let _ = self.0.skip_ws();
        self.0.bytes.get(self.0.pos).copied()
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), Fault> {
        if self.peek() == Some(byte) {
            self.0.pos += 1;
            Ok(())
        } else {
            Err(self.0.error(what))
        }
    }

    /// Reads `{`.
    pub fn begin_object(&mut self) -> Result<(), Fault> {
        self.expect(b'{', "expected an object")
    }

    /// The next member's name (its value follows), or `None` at the object's end. `first` is true for the
    /// first call after `begin_object`.
    pub fn next_key(&mut self, first: bool) -> Result<Option<String>, Fault> {
        match self.peek() {
            Some(b'}') => {
                self.0.pos += 1;
                return Ok(None);
            }
            Some(b',') if !first => self.0.pos += 1,
            _ if first => {}
            _ => return Err(self.0.error("expected ',' or '}'")),
        }
        if self.peek() != Some(b'"') {
            return Err(self.0.error("expected a member name in double quotes"));
        }
        let key = self.0.string()?;
        self.expect(b':', "expected ':'")?;
        Ok(Some(key))
    }

    /// Reads `[`.
    pub fn begin_array(&mut self) -> Result<(), Fault> {
        self.expect(b'[', "expected an array")
    }

    /// True when another item follows (read it next), false at the array's end. `first` is true for the first
    /// call after `begin_array`.
    pub fn next_item(&mut self, first: bool) -> Result<bool, Fault> {
        match self.peek() {
            Some(b']') => {
                self.0.pos += 1;
                Ok(false)
            }
            _ if first => Ok(true),
            Some(b',') => {
                self.0.pos += 1;
                Ok(true)
            }
            _ => Err(self.0.error("expected ',' or ']'")),
        }
    }

    /// Reads a value of any kind as a tree (for small values).
    pub fn value(&mut self) -> Result<Json, Fault> {
        let _ = self.0.skip_ws();
        self.0.value(0)
    }

    /// Reads a string.
    pub fn string(&mut self) -> Result<String, Fault> {
        if self.peek() == Some(b'"') {
            self.0.string()
        } else {
            Err(self.0.error("expected a string"))
        }
    }

    /// True and past it when the next value is `null`.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.0.rest().starts_with(b"null") {
            self.0.pos += 4;
            true
        } else {
            false
        }
    }

    /// Reads a whole number, written any way JSON allows (`100`, `100.0`, `1e2`; see `exact_int`), an error
    /// for any other value, fractions included.
    pub fn int(&mut self) -> Result<i64, Fault> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {
                let start = self.0.pos;
                self.0.number_end()?;
                // `exact_int` reads every form, `12` as well as `1.2e1`, so the text is neither parsed twice
                // nor copied (this is most of what the shell reads).
                let text =
                    self.0.text.get(start..self.0.pos).ok_or_else(|| self.0.error("invalid number"))?;
                exact_int(text).map_err(|out_of_range| {
                    self.0.pos = start;
                    self.0.error(if out_of_range {
                        "expected a whole number within the range of i64"
                    } else {
                        "expected a whole number"
                    })
                })
            }
            _ => Err(self.0.error("expected a whole number")),
        }
    }

    /// Skips one value of any kind without building it (strings are checked for escapes and control
    /// characters as when read, so a skipped value is valid JSON too).
    pub fn skip(&mut self) -> Result<(), Fault> {
        self.skip_at(0)
    }

    pub(crate) fn skip_at(&mut self, depth: usize) -> Result<(), Fault> {
        if depth > MAX_DEPTH {
            return Err(self.0.error(TOO_DEEP));
        }
        match self.peek() {
            Some(b'[') => {
                self.begin_array()?;
                let mut first = true;
                while self.next_item(first)? {
                    first = false;
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            Some(b'{') => {
                self.begin_object()?;
                // A repeated name is refused here too, as `parse` refuses it anywhere: a value passed over must
                // not make a document the full decoder refuses acceptable.
                let mut names = Vec::new();
                let mut first = true;
                while let Some(name) = self.next_key(first)? {
                    first = false;
                    names.push(name);
                    self.skip_at(depth + 1)?;
                }
                distinct(names).map_err(|name| Fault { name: Some(name), ..self.0.error("duplicate member") })
            }
            Some(b'"') => self.skip_string(),
            // Scalars without building anything: a literal, or a number checked as the parser checks it.
            Some(b'n') => self.0.literal("null"),
            Some(b't') => self.0.literal("true"),
            Some(b'f') => self.0.literal("false"),
            Some(b'-' | b'0'..=b'9') => self.0.number_end().map(drop),
            _ => Err(self.0.error("expected a JSON value")),
        }
    }

    /// Skips a string: the escapes are checked by reading them, the rest is passed over.
    fn skip_string(&mut self) -> Result<(), Fault> {
        let start = self.0.pos;
        self.0.pos += 1;
        loop {
            match self.0.bytes.get(self.0.pos) {
                None => return Err(self.0.error("unterminated string")),
                Some(b'"') => {
                    self.0.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    // Rare in practice: read the whole string the careful way.
                    self.0.pos = start;
                    return self.0.string().map(drop);
                }
                Some(b) if *b < 0x20 => return Err(self.0.error("control character in string")),
                Some(_) => self.0.pos += 1,
            }
        }
    }

    /// Reads `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, Fault> {
        match self.peek() {
            Some(b't') => self.0.literal("true").map(|()| true),
            Some(b'f') => self.0.literal("false").map(|()| false),
            _ => Err(self.0.error("expected true or false")),
        }
    }

    /// Reads a number as [`parse`] would: [`Json::Int`] or [`Json::Number`].
    pub fn number(&mut self) -> Result<Json, Fault> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.0.number(),
            _ => Err(self.0.error("expected a number")),
        }
    }

    /// Checks that nothing but white space follows the document.
    pub fn end(&mut self) -> Result<(), Fault> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.0.error("unexpected text after the JSON value")),
        }
    }
}

/// Any serde data as a [`Json`] tree, so that every wire type is also `serde::Deserialize` through its one
/// decoder (`serde_json::from_str::<Cart>(..)`, axum's `Json<Cart>` ...) with the same rules and messages.
/// In the browser nothing calls it, and it is left out of the wasm.
impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or_else(|_| Json::Number(v.to_string()), Json::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        serde::Deserialize::deserialize(d)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            if members.iter().any(|(k, _)| *k == key) {
                return Err(serde::de::Error::custom(format!("duplicate member \"{key}\"")));
            }
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

/// Implements `serde::Deserialize` for a [`FromJson`] type by way of [`Json`]: one decoder, two doors.
#[macro_export]
macro_rules! serde_through_json {
    ($name:ty) => {
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let json = <$crate::json::Json as ::serde::Deserialize>::deserialize(deserializer)?;
                <$name as $crate::json::FromJson>::decode(&json).map_err(::serde::de::Error::custom)
            }
        }
    };
}

/// Whether `key` is the camelCase of the Rust name `field`, compared without allocating (decoding a large
/// catalog compares a dozen names per product).
pub fn is_camel_case_of(key: &str, field: &str) -> bool {
    let mut key = key.bytes();
    let mut upper_next = false;
    for (i, b) in field.bytes().enumerate() {
        if b == b'_' {
            upper_next = true;
            continue;
        }
        let want = if upper_next {
            b.to_ascii_uppercase()
        } else if i == 0 {
            b.to_ascii_lowercase()
        } else {
            b
        };
        upper_next = false;
        if key.next() != Some(want) {
            return false;
        }
    }
    key.next().is_none()
}

/// `per_amount` -> `perAmount`, `AfterEarning` -> `afterEarning`: the names serde's `rename_all = "camelCase"`
/// gives fields and variants.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper_next = false;
    for (i, ch) in name.chars().enumerate() {
        if ch == '_' {
            upper_next = true;
        } else if upper_next {
            out.push(ch.to_ascii_uppercase());
            upper_next = false;
        } else if i == 0 {
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// A type read from JSON, reporting every problem into the checker at the current path.
pub trait FromJson: Sized {
    /// Decodes `value`; on failure records the problems and returns `None`.
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self>;

    /// The value when the member is absent or null; `None` makes the member required.
    fn absent() -> Option<Self> {
        None
    }

    /// Parses JSON text and decodes it, with every problem. Paths start at the document root.
    fn from_json_str(text: &str) -> Result<Self, Problems> {
        let json = parse(text)?;
        Self::decode(&json)
    }

    /// Decodes a parsed document, with every problem.
    fn decode(json: &Json) -> Result<Self, Problems> {
        let mut c = Checker::default();
        let value = Self::from_json(json, &mut c);
        c.finish()?;
        value.ok_or_else(|| Problems::one("", "could not be decoded"))
    }
}

impl Checker {
    /// The members of an object, or a problem.
    pub fn object<'j>(&mut self, value: &'j Json) -> Option<&'j [(String, Json)]> {
        match value {
            Json::Object(members) => Some(members),
            other => {
                self.fail(format!("must be an object, got {}", other.kind()));
                None
            }
        }
    }

    /// Decodes the member named after the Rust field `field` (in camelCase). Absent or null uses `default`,
    /// else the type's own [`FromJson::absent`], else is a problem.
    pub fn member<T: FromJson>(
        &mut self,
        members: &[(String, Json)],
        field: &'static str,
        default: Option<T>,
    ) -> Option<T> {
        match members.iter().find(|(k, _)| is_camel_case_of(k, field)).map(|(_, v)| v) {
            None | Some(Json::Null) => match default.or_else(T::absent) {
                Some(value) => Some(value),
                None => {
                    self.member_path(field, |c| c.fail("is required"));
                    None
                }
            },
            Some(value) => {
                let mut out = None;
                self.member_path(field, |c| out = T::from_json(value, c));
                out
            }
        }
    }

    /// Reports members that are not among `fields` (Rust names), for documents a merchant writes by hand,
    /// where a misspelt name would otherwise be silently ignored.
    pub fn reject_unknown(&mut self, members: &[(String, Json)], fields: &[&str]) {
        for (key, _) in members {
            if !fields.iter().any(|f| camel_case(f) == *key) {
                let expected: Vec<String> = fields.iter().map(|f| camel_case(f)).collect();
                self.key(key, |c| c.fail(format!("unknown field, expected one of: {}", expected.join(", "))));
            }
        }
    }
}

impl FromJson for i64 {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        match value {
            Json::Int(n) => Some(*n),
            Json::Number(text) => whole_number(text).map_err(|message| c.fail(message)).ok(),
            other => {
                c.fail(format!("must be a number, got {}", other.kind()));
                None
            }
        }
    }
}

impl FromJson for u32 {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        let n = i64::from_json(value, c)?;
        match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                c.fail(format!("must be between 0 and {}, got {n}", u32::MAX));
                None
            }
        }
    }
}

impl FromJson for f64 {
    /// For display ratios only (tier progress); money and points are integers and never pass through here.
    /// Decoded by hand, closely enough for a progress bar, so the browser build carries no float parser.
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        match value {
            Json::Int(n) => Some(*n as f64),
            Json::Number(text) => Some(approximate(text)),
            other => {
                c.fail(format!("must be a number, got {}", other.kind()));
                None
            }
        }
    }
}

/// A JSON number that is not an `i64` as written ([`Json::Number`]) as a whole number, or why not.
pub(crate) fn whole_number(text: &str) -> Result<i64, String> {
    exact_int(text).map_err(|out_of_range| {
        if out_of_range {
            format!(
                "is out of range (whole numbers from -9223372036854775808 to 9223372036854775807), got {text}"
            )
        } else {
            format!("must be a whole number, got {text}")
        }
    })
}

/// The whole number that a JSON number's text (already checked by the parser) names, read exactly, digit by
/// digit, never through a float: `100.0`, `1e2` and `1.5e1` are whole; `9007199254740993.0` stays exact.
/// `Err(true)`: a whole number outside `i64`; `Err(false)`: it has a fraction.
fn exact_int(text: &str) -> Result<i64, bool> {
    let (negative, text) = text.strip_prefix('-').map_or((false, text), |rest| (true, rest));
    let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let (exponent_negative, exponent) = match exponent.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, exponent.strip_prefix('+').unwrap_or(exponent)),
    };
    // Saturating: an exponent of a thousand digits is only "very large".
    let exponent =
        exponent.bytes().fold(0_i64, |e, b| e.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    let exponent = if exponent_negative { -exponent } else { exponent };
    // Where the decimal point falls among all the digits.
    let point = (whole.len() as i64).saturating_add(exponent);
    let digits = whole.len() + fraction.len();
    let limit = 1_u64 << 63;
    let mut value = 0_u64;
    for (i, b) in whole.bytes().chain(fraction.bytes()).enumerate() {
        let digit = u64::from(b - b'0');
        if (i as i64) < point {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(digit))
                .filter(|v| *v <= limit)
                .ok_or(true)?;
        } else if digit != 0 {
            return Err(false);
        }
    }
    if value != 0 {
        for _ in digits as i64..point {
            value = value.checked_mul(10).filter(|v| *v <= limit).ok_or(true)?;
        }
    }
    match (negative, i64::try_from(value)) {
        (false, Ok(n)) => Ok(n),
        (true, Ok(n)) => Ok(-n),
        (true, Err(_)) if value == limit => Ok(i64::MIN),
        _ => Err(true),
    }
}

/// The value of a JSON number's text (already checked by the parser): up to 18 significant digits, then
/// scaled by the exponent.
fn approximate(text: &str) -> f64 {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].trim_start_matches('+').parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let negative = mantissa.starts_with('-');
    let (mut digits, mut scale, mut fraction) = (0_u64, exponent, false);
    for b in mantissa.bytes() {
        match b {
            b'.' => fraction = true,
            b'0'..=b'9' if digits < 100_000_000_000_000_000 => {
                digits = digits * 10 + u64::from(b - b'0');
                scale -= i32::from(fraction);
            }
            b'0'..=b'9' => scale += i32::from(!fraction),
            _ => {}
        }
    }
    let magnitude = digits as f64 * 10_f64.powi(scale);
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

impl FromJson for bool {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        match value {
            Json::Bool(b) => Some(*b),
            other => {
                c.fail(format!("must be true or false, got {}", other.kind()));
                None
            }
        }
    }
}

impl FromJson for String {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        match value {
            Json::String(s) => Some(s.clone()),
            other => {
                c.fail(format!("must be a string, got {}", other.kind()));
                None
            }
        }
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        match value {
            Json::Null => Some(None),
            value => T::from_json(value, c).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        let Json::Array(items) = value else {
            c.fail(format!("must be an array, got {}", value.kind()));
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            c.index(i, |c| match T::from_json(item, c) {
                Some(v) => out.push(v),
                None => ok = false,
            });
        }
        ok.then_some(out)
    }
}

impl FromJson for BTreeMap<String, String> {
    fn from_json(value: &Json, c: &mut Checker) -> Option<Self> {
        let members = c.object(value)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in members {
            c.key(key, |c| match String::from_json(value, c) {
                Some(s) => {
                    out.insert(key.clone(), s);
                }
                None => ok = false,
            });
        }
        ok.then_some(out)
    }
}

/// A wire type read straight from JSON text, with no tree and no message: yes or no. This is the decoder of
/// the widget's shell, which must be small (every `format!` and every tree node is code a product page
/// downloads); when it says no, the full decoder ([`FromJson`]) says why. Both are written by `wire_struct!`
/// and `wire_enum!` from the same field list, and accept exactly the same documents (a property test in this
/// module holds them to it).
pub trait ReadJson: Sized {
    /// True when an absent or null member is `None` rather than missing ([`Option`]).
    const OPTIONAL: bool = false;

    /// Reads one value at nesting `depth` (the document's root is 0), or `None` for anything [`FromJson`]
    /// would refuse.
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self>;

    /// A value to hold a struct's member until it is read (a required member is refused if it never is).
    fn placeholder() -> Self;

    /// Reads a whole document.
    fn read_str(text: &str) -> Option<Self> {
        let mut r = Reader::new(text);
        let value = Self::read(&mut r, 0)?;
        r.end().ok()?;
        Some(value)
    }
}

/// `Ok` when no name is there twice, else a repeated one; through an ordered map, so an object of many members
/// costs n log n, not n². The map is the one texts are read into (`BTreeMap<String, String>`, empty values),
/// so the shell's wasm gains no second copy of the B-tree's code.
fn distinct(names: Vec<String>) -> Result<(), String> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for name in names {
        if seen.contains_key(&name) {
            return Err(name);
        }
        seen.insert(name, String::new());
    }
    Ok(())
}

/// The start of any value: `None` past [`MAX_DEPTH`], as [`parse`] refuses it.
fn deep_enough(depth: usize) -> Option<()> {
    (depth <= MAX_DEPTH).then_some(())
}

impl ReadJson for i64 {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        r.int().ok()
    }

    fn placeholder() -> Self {
        0
    }
}

impl ReadJson for u32 {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        u32::try_from(i64::read(r, depth)?).ok()
    }

    fn placeholder() -> Self {
        0
    }
}

impl ReadJson for f64 {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        match r.number().ok()? {
            Json::Int(n) => Some(n as f64),
            Json::Number(text) => Some(approximate(&text)),
            _ => None,
        }
    }

    fn placeholder() -> Self {
        0.0
    }
}

impl ReadJson for bool {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        r.bool().ok()
    }

    fn placeholder() -> Self {
        false
    }
}

impl ReadJson for String {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        r.string().ok()
    }

    fn placeholder() -> Self {
        String::new()
    }
}

impl<T: ReadJson> ReadJson for Option<T> {
    const OPTIONAL: bool = true;

    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        if r.null() {
            Some(None)
        } else {
            T::read(r, depth).map(Some)
        }
    }

    fn placeholder() -> Self {
        None
    }
}

impl<T: ReadJson> ReadJson for Vec<T> {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        r.begin_array().ok()?;
        let mut out = Vec::new();
        let mut first = true;
        while r.next_item(first).ok()? {
            first = false;
            out.push(T::read(r, depth + 1)?);
        }
        Some(out)
    }

    fn placeholder() -> Self {
        Vec::new()
    }
}

impl<T: ReadJson> ReadJson for BTreeMap<String, T> {
    fn read(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        deep_enough(depth)?;
        r.begin_object().ok()?;
        let mut out = BTreeMap::new();
        let mut first = true;
        while let Some(key) = r.next_key(first).ok()? {
            first = false;
            let value = T::read(r, depth + 1)?;
            if out.insert(key, value).is_some() {
                return None;
            }
        }
        Some(out)
    }

    fn placeholder() -> Self {
        BTreeMap::new()
    }
}

/// A struct's members as `wire_struct!`'s reader walks them: the known ones by the index of their field, the
/// others skipped, unless `others` lists the only ones that may be (a strict struct: none, or the members of
/// the whole a projection leaves unread). Duplicates are refused, known or not, as [`parse`] refuses them.
/// One body for every struct, so each struct adds only its field list and a match.
#[inline(never)]
pub fn read_members(
    r: &mut Reader<'_>,
    depth: usize,
    fields: &[&str],
    others: Option<&[&str]>,
    required: u64,
    field: &mut dyn FnMut(&mut Reader<'_>, usize) -> Option<()>,
) -> Option<()> {
    deep_enough(depth)?;
    r.begin_object().ok()?;
    let mut seen = 0_u64;
    let mut given = 0_u64;
    let mut skipped: Vec<String> = Vec::new();
    let mut first = true;
    while let Some(key) = r.next_key(first).ok()? {
        first = false;
        deep_enough(depth + 1)?;
        match fields.iter().position(|f| is_camel_case_of(&key, f)) {
            Some(i) => {
                if seen & 1 << i != 0 {
                    return None;
                }
                seen |= 1 << i;
                // A null member is an absent one: it keeps its default.
                if !r.null() {
                    field(r, i)?;
                    given |= 1 << i;
                }
            }
            None if others.is_some_and(|names| !names.iter().any(|n| is_camel_case_of(&key, n))) => {
                return None
            }
            None => {
                skipped.push(key);
                r.skip_at(depth + 1).ok()?;
            }
        }
    }
    distinct(skipped).ok()?;
    (given & required == required).then_some(())
}

/// Declares a wire struct and its decoders ([`FromJson`], [`ReadJson`]) from one field list. `strict` rejects
/// unknown members (documents written by hand); `lenient` ignores them (objects a developer passes, which may
/// carry more); `strict [a, b]` also lets members `a` and `b` through unread (a projection of a larger type).
/// A field written `name: Type = expr` takes `expr` when absent; `Option` fields are optional; others are
/// required. Exported so the server declares its own wire types the same way.
#[macro_export]
macro_rules! wire_struct {
    (
        $mode:ident $([$($skip:ident),* $(,)?])?;
        $(#[$attr:meta])*
        pub struct $name:ident {
            $( $(#[$fattr:meta])* pub $field:ident : $ty:ty $(= $default:expr)? ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $( $(#[$fattr])* pub $field: $ty ),*
        }

        impl $name {
            /// The members this type reads, by Rust name (camelCase on the wire).
            pub const WIRE_FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        impl $crate::json::FromJson for $name {
            fn from_json(value: &$crate::json::Json, c: &mut $crate::Checker) -> Option<Self> {
                let members = c.object(value)?;
                $( let $field = c.member::<$ty>(members, stringify!($field), $crate::wire_struct!(@default $($default)?)); )*
                $crate::wire_struct!(@unknown $mode, c, members, [$(stringify!($field),)* $($(stringify!($skip)),*)?]);
                Some($name { $( $field: $field? ),* })
            }
        }

        impl $crate::json::ReadJson for $name {
            fn read(r: &mut $crate::json::Reader<'_>, depth: usize) -> Option<Self> {
                // Members without a default that may not be absent, by index.
                const REQUIRED: u64 = {
                    let mut mask = 0;
                    let mut i = 0;
                    $(
                        if !$crate::wire_struct!(@has_default $($default)?) && !<$ty as $crate::json::ReadJson>::OPTIONAL {
                            mask |= 1 << i;
                        }
                        i += 1;
                    )*
                    let _ = i;
                    mask
                };
                let mut out = $name {
                    $( $field: $crate::wire_struct!(@init $ty $(, $default)?) ),*
                };
                $crate::json::read_members(
                    r,
                    depth,
                    &[$(stringify!($field)),*],
                    $crate::wire_struct!(@others $mode [$($(stringify!($skip)),*)?]),
                    REQUIRED,
                    &mut |r, i| {
                        let mut n = 0;
                        $(
                            if i == n {
                                out.$field = <$ty as $crate::json::ReadJson>::read(r, depth + 1)?;
                                return Some(());
                            }
                            n += 1;
                        )*
                        let _ = n;
                        None
                    },
                )?;
                Some(out)
            }

            fn placeholder() -> Self {
                $name { $( $field: <$ty as $crate::json::ReadJson>::placeholder() ),* }
            }
        }

        $crate::serde_through_json!($name);
    };
    (@has_default) => { false };
    (@has_default $default:expr) => { true };
    (@init $ty:ty) => { <$ty as $crate::json::ReadJson>::placeholder() };
    (@init $ty:ty, $default:expr) => { $default };
    (@others strict [$($skip:expr),*]) => { Some(&[$($skip),*]) };
    (@others lenient []) => { None };
    (@default) => { None };
    (@default $default:expr) => { Some($default) };
    (@unknown strict, $c:ident, $members:ident, [$($f:expr),* $(,)?]) => { $c.reject_unknown($members, &[$($f),*]) };
    (@unknown lenient, $c:ident, $members:ident, [$($f:expr),* $(,)?]) => {};
}

/// Declares a wire enum of unit variants, written in JSON as camelCase strings, and its decoder.
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $( $(#[$vattr:meta])* $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        pub enum $name {
            $( $(#[$vattr])* $variant ),*
        }

        impl $crate::json::FromJson for $name {
            fn from_json(value: &$crate::json::Json, c: &mut $crate::Checker) -> Option<Self> {
                const NAMES: &[&str] = &[$(stringify!($variant)),*];
                const VALUES: &[$name] = &[$($name::$variant),*];
                if let $crate::json::Json::String(s) = value {
                    if let Some(i) = NAMES.iter().position(|n| $crate::json::camel_case(n) == *s) {
                        return Some(VALUES[i]);
                    }
                }
                let names: Vec<String> = NAMES.iter().map(|n| format!("\"{}\"", $crate::json::camel_case(n))).collect();
                let got = match value {
                    $crate::json::Json::String(s) => format!("\"{s}\""),
                    other => other.kind().to_owned(),
                };
                c.fail(format!("must be one of {}, got {got}", names.join(", ")));
                None
            }
        }

        impl $crate::json::ReadJson for $name {
            fn read(r: &mut $crate::json::Reader<'_>, depth: usize) -> Option<Self> {
                const NAMES: &[&str] = &[$(stringify!($variant)),*];
                const VALUES: &[$name] = &[$($name::$variant),*];
                let s = <String as $crate::json::ReadJson>::read(r, depth)?;
                NAMES.iter().position(|n| $crate::json::is_camel_case_of(&s, n)).map(|i| VALUES[i])
            }

            fn placeholder() -> Self {
                [$($name::$variant),*][0]
            }
        }

        $crate::serde_through_json!($name);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::MAX_PROBLEMS;

    fn ok(text: &str, expected: Json) {
        assert_eq!(parse(text).map_err(|p| p.to_string()), Ok(expected), "{text}");
    }

    fn bad(text: &str, message: &str) {
        assert_eq!(parse(text).map_err(|p| p.to_string()), Err(message.to_owned()), "{text}");
    }

    /// The quiet reader's verdict and value equal the decoder's, for the cases a generated document rarely
    /// hits: duplicates (known and unknown members), nesting at the limit, nulls, numbers written as decimals,
    /// the members a projection may pass over unread, and text after the document.
    #[test]
    fn the_quiet_reader_agrees_with_the_decoder() {
        use crate::{EarnConfig, EarnRate, Money};
        fn same<T: FromJson + ReadJson + PartialEq + std::fmt::Debug>(text: &str, readable: bool) {
            let decoded = T::from_json_str(text).ok();
            assert_eq!(T::read_str(text), decoded, "{text}");
            assert_eq!(decoded.is_some(), readable, "{text}");
        }
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // Strict: members by name, no other, no twice.
        same::<EarnRate>(r#"{"points": 1, "perAmount": 100}"#, true);
        same::<EarnRate>(r#" {"perAmount": 100, "points": 1e1} "#, true);
        same::<EarnRate>(r#"{"points": 1, "points": 2, "perAmount": 100}"#, false);
        same::<EarnRate>(r#"{"points": 1, "perAmount": 100, "other": 1}"#, false);
        same::<EarnRate>(r#"{"points": 1.5, "perAmount": 100}"#, false);
        same::<EarnRate>(r#"{"points": null, "perAmount": 100}"#, false);
        same::<EarnRate>(r#"{"points": 1, "perAmount": 100} x"#, false);
        same::<EarnRate>(r#"{"points": 1, "perAmount": 100"#, false);
        // Lenient: other members are skipped, but never twice and never past the depth limit.
        same::<Money>(r#"{"amount": 100.0, "currency": "CNY", "note": {"a": [1, "x", null, true]}}"#, true);
        same::<Money>(r#"{"amount": 1, "currency": "CNY", "note": 1, "note": 2}"#, false);
        same::<Money>(r#"{"amount": 1, "currency": "XYZ"}"#, false);
        same::<Money>(r#"{"amount": 1, "currency": "CNY", "note": "\u00e9\ud83d\ude00"}"#, true);
        same::<Money>(r#"{"amount": 1, "currency": "CNY", "note": "\ud83d"}"#, false);
        same::<Money>(r#"{"amount": 1, "currency": "CNY", "note": 01}"#, false);
        same::<Money>(&format!(r#"{{"amount": 1, "currency": "CNY", "note": {}}}"#, nest(MAX_DEPTH)), true);
        same::<Money>(
            &format!(r#"{{"amount": 1, "currency": "CNY", "note": {}}}"#, nest(MAX_DEPTH + 1)),
            false,
        );
        same::<Vec<Money>>(
            &format!(
                "{}{}{}",
                "[".repeat(MAX_DEPTH - 1),
                r#"{"amount": 1, "currency": "CNY"}"#,
                "]".repeat(MAX_DEPTH - 1)
            ),
            false,
        );
        // A projection passes over the whole's other members, and refuses anything else.
        let program = r#"{"version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
            "earn": {"rate": {"points": 1, "perAmount": 100}}, "rewards": [{"any": "thing"}]}"#;
        same::<EarnConfig>(program, true);
        same::<EarnConfig>(&program.replace(r#""rewards""#, r#""rewardz""#), false);
        same::<EarnConfig>(&program.replace(r#""name""#, r#""earn": {}, "name""#), false);
    }

    #[test]
    fn a_projection_passes_over_exactly_the_members_of_the_whole_it_does_not_read() {
        let mut read: Vec<&str> = crate::EarnConfig::WIRE_FIELDS.to_vec();
        read.extend(["name", "lifecycle", "tier_qualification", "rewards", "birthday", "referral"]);
        read.sort_unstable();
        let mut whole = crate::ProgramConfig::WIRE_FIELDS.to_vec();
        whole.sort_unstable();
        assert_eq!(read, whole, "EarnConfig's skip list must name ProgramConfig's other members");
    }

    #[test]
    fn parses_json() {
        ok(" null ", Json::Null);
        ok(
            "[true, false, -0, 12, -9223372036854775808]",
            Json::Array(vec![
                Json::Bool(true),
                Json::Bool(false),
                Json::Int(0),
                Json::Int(12),
                Json::Int(i64::MIN),
            ]),
        );
        ok(
            "[1.5, 1e3, 9223372036854775808]",
            Json::Array(vec![
                Json::Number("1.5".into()),
                Json::Number("1e3".into()),
                Json::Number("9223372036854775808".into()),
            ]),
        );
        ok(
            r#"{"a": {"b": []}, "c": "\u4F1A\u5458 \ud83c\udf75 \"\\\/\n"}"#,
            Json::Object(vec![
                ("a".into(), Json::Object(vec![("b".into(), Json::Array(vec![]))])),
                ("c".into(), Json::String("会员 🍵 \"\\/\n".into())),
            ]),
        );
        ok("\"会员\"", Json::String("会员".into()));
    }

    #[test]
    fn refuses_what_is_not_json() {
        bad("", "invalid JSON: expected a JSON value at the end of the text");
        bad("{\"a\": 1,}", "invalid JSON: expected a member name in double quotes at byte 8");
        bad("[01]", "invalid JSON: invalid number at byte 3");
        bad("[1.]", "invalid JSON: invalid number at byte 3");
        bad("{\"a\": 1, \"a\": 2}", "invalid JSON: duplicate member \"a\" at byte 9");
        bad("\"\\ud800\"", "invalid JSON: unpaired surrogate in \\u escape at byte 7");
        bad("\"a\nb\"", "invalid JSON: control character in string at byte 2");
        bad("nul", "invalid JSON: expected a JSON value at byte 0");
        bad("1 2", "invalid JSON: unexpected text after the JSON value at byte 2");
        bad(&"[".repeat(100), "invalid JSON: nesting deeper than 64 at byte 65");
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": 1", i % 39)).collect();
        bad(&format!("{{{}}}", many.join(",")), "invalid JSON: duplicate member \"k0\" at byte 342");
    }

    #[test]
    fn names_follow_serde_camel_case() {
        for (rust, json) in
            [("per_amount", "perAmount"), ("id", "id"), ("AfterEarning", "afterEarning"), ("Floor", "floor")]
        {
            assert_eq!(camel_case(rust), json);
        }
    }

    #[test]
    fn whole_numbers_written_as_decimals_are_read_exactly() {
        // Python's and PHP's encoders write computed totals as `100.0`; the literal is read digit by digit,
        // never through a float, so large values stay exact.
        let range = "is out of range (whole numbers from -9223372036854775808 to 9223372036854775807), got";
        for (text, expected) in [
            ("100", Ok(100)),
            ("100.0", Ok(100)),
            ("100.000", Ok(100)),
            ("1e2", Ok(100)),
            ("1E+2", Ok(100)),
            ("1.5e1", Ok(15)),
            ("1000e-1", Ok(100)),
            ("-2.50e1", Ok(-25)),
            ("-0.0", Ok(0)),
            ("0e999999999999999999999", Ok(0)),
            ("0.000e-5", Ok(0)),
            ("9007199254740993.0", Ok(9_007_199_254_740_993)),
            ("9223372036854775807.0", Ok(i64::MAX)),
            ("9.223372036854775807e18", Ok(i64::MAX)),
            ("-9223372036854775808.00", Ok(i64::MIN)),
            ("1.5", Err("must be a whole number, got 1.5".to_owned())),
            ("100.01", Err("must be a whole number, got 100.01".to_owned())),
            ("1e-1", Err("must be a whole number, got 1e-1".to_owned())),
            ("9007199254740993.5", Err("must be a whole number, got 9007199254740993.5".to_owned())),
            (
                "1e-999999999999999999999",
                Err("must be a whole number, got 1e-999999999999999999999".to_owned()),
            ),
            ("9223372036854775808", Err(format!("{range} 9223372036854775808"))),
            ("-9223372036854775809", Err(format!("{range} -9223372036854775809"))),
            ("9223372036854775808.0", Err(format!("{range} 9223372036854775808.0"))),
            ("1e19", Err(format!("{range} 1e19"))),
            ("1e999999999999999999999", Err(format!("{range} 1e999999999999999999999"))),
            ("123456789012345678901234567890", Err(format!("{range} 123456789012345678901234567890"))),
        ] {
            let got = i64::decode(&parse(text).expect("valid JSON")).map_err(|p| p.to_string());
            assert_eq!(got, expected, "{text}");
        }
        // Every integer type reads the same way; its own range is checked after.
        assert_eq!(u32::decode(&parse("500.0").expect("valid JSON")), Ok(500));
        assert_eq!(
            u32::decode(&parse("4294967296.0").expect("valid JSON")).map_err(|p| p.to_string()),
            Err("must be between 0 and 4294967295, got 4294967296".to_owned())
        );
    }

    #[test]
    fn one_document_reports_a_bounded_number_of_problems_and_counts_the_rest() {
        // A request body of unknown members (1 MB of them is about 100,000) must not become a 422 of several MB.
        for (members, shown, more) in [
            (3, 3, None),
            (MAX_PROBLEMS, MAX_PROBLEMS, None),
            (MAX_PROBLEMS + 1, MAX_PROBLEMS, Some(1)),
            (100_000, MAX_PROBLEMS, Some(100_000 - MAX_PROBLEMS)),
        ] {
            let body: Vec<String> = (0..members).map(|i| format!("\"k{i}\": 1")).collect();
            let json = parse(&format!("{{{}}}", body.join(","))).expect("valid JSON");
            let problems = crate::RecommendRequest::decode(&json).expect_err("unknown members");
            let last = problems.0.last().map(|p| p.message.clone()).unwrap_or_default();
            match more {
                None => {
                    assert_eq!(problems.0.len(), shown, "{members}");
                    assert!(last.starts_with("unknown field"), "{last}");
                }
                Some(more) => {
                    assert_eq!(problems.0.len(), shown + 1, "{members}");
                    assert_eq!(last, format!("and {more} more problems"));
                }
            }
            assert!(problems.to_string().len() < 20_000, "{members}: {} bytes", problems.to_string().len());
        }
    }

    #[test]
    fn reads_display_ratios_closely() {
        for (text, expected) in [
            ("0.5", 0.5),
            ("1", 1.0),
            ("0", 0.0),
            ("0.333333333333333314829616256247", 1.0 / 3.0),
            ("1e-5", 0.00001),
            ("2.5E+2", 250.0),
            ("-0.25", -0.25),
            ("0.000123", 0.000123),
        ] {
            let value = f64::decode(&parse(text).expect("valid JSON")).expect("a number");
            assert!((value - expected).abs() <= expected.abs() * 1e-12, "{text}: {value} != {expected}");
        }
    }
}
