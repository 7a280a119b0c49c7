//! Collects every problem found while validating input, each with the JSON path it concerns.
//!
//! Validation never stops at the first problem: a merchant fixing a program wants the whole list at once,
//! e.g. `tiers[2].threshold: must be greater than tiers[1].threshold (500)`.

use serde::Serialize;
use std::fmt;

/// A problem's message, written as `format!` is: the text with the feature `messages` (the default), else an
/// empty string whose arguments are never formatted. The product page's shell builds without messages (it
/// only needs the verdict; the full widget explains a refusal), so it links neither the texts nor the
/// formatting behind them.
#[cfg(feature = "messages")]
#[macro_export]
macro_rules! message {
    ($($arg:tt)*) => {
        ::std::format!($($arg)*)
    };
}

/// A problem's message, written as `format!` is: the text with the feature `messages` (the default), else an
/// empty string whose arguments are never formatted. The product page's shell builds without messages (it
/// only needs the verdict; the full widget explains a refusal), so it links neither the texts nor the
/// formatting behind them.
#[cfg(not(feature = "messages"))]
#[macro_export]
macro_rules! message {
    ($($arg:tt)*) => {{
        // The arguments are still checked (and count as used), but nothing reads them, so no formatting
        // code is kept.
        let _ = ::std::format_args!($($arg)*);
        ::std::string::String::new()
    }};
}

/// A message as a problem keeps it: the text, or nothing in a build without messages (see [`message!`]), so
/// that literal messages are left out of that build too.
#[inline(always)]
fn recorded(message: impl Into<String>) -> String {
    #[cfg(feature = "messages")]
    {
        message.into()
    }
    #[cfg(not(feature = "messages"))]
    {
        let _ = message;
        String::new()
    }
}

/// One problem in an input document: where (a JSON path in the names the document uses) and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSON path such as `tiers[2].threshold`; empty for the document itself.
    pub path: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one input, in document order. Never empty when returned as an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

impl Problems {
    /// A single problem. Its message is kept in every build: a caller that writes one means to show it (the
    /// shell's settings and badges do); the rules' own messages are left out through [`message!`].
    pub fn one(path: impl Into<String>, message: impl Into<String>) -> Problems {
        Problems(vec![Problem { path: path.into(), message: message.into() }])
    }

    /// Adds a problem (for checks that gather several before deciding), with its message in every build.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    /// Prefixes every path with `root` (the name of the argument or document the problems are in).
    pub fn under(mut self, root: &str) -> Problems {
        for problem in &mut self.0 {
            // Joined by hand rather than with `format!`, which a build without messages does not link.
            let mut path = String::with_capacity(root.len() + 1 + problem.path.len());
            path.push_str(root);
            if !problem.path.is_empty() && !problem.path.starts_with('[') {
                path.push('.');
            }
            path.push_str(&problem.path);
            problem.path = path;
        }
        self
    }

    /// Every problem on one line, as `Display` writes them (`path: message; path: message`), without the
    /// formatting machinery, for the product page's shell. In a build without messages the checker's problem
    /// has neither path nor text (under a root it names only the root).
    pub fn joined(&self) -> String {
        let mut out = String::new();
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(&problem.path);
            if !problem.path.is_empty() && !problem.message.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&problem.message);
        }
        out
    }
}

/// The most problems one walk reports; past it they are counted, and the count is the last problem
/// ("and 12 more problems"), so a body of a million mistakes cannot become an answer of several megabytes.
pub const MAX_PROBLEMS: usize = 50;

/// Walks a document, tracking the current path, and records every problem against it. Used by decoding
/// ([`crate::json::FromJson`]) and by validation. Without the feature `messages` it keeps no path either (a
/// path only serves the message): each problem is recorded, with neither path nor text, so the verdict is
/// the same.
#[derive(Default)]
pub struct Checker {
    path: Vec<Segment>,
    problems: Vec<Problem>,
    /// Problems past [`MAX_PROBLEMS`], counted only.
    more: usize,
}

enum Segment {
    Field(&'static str),
    /// A member named by its Rust field (`snake_case`), written as camelCase only if a problem is reported,
    /// so decoding allocates nothing per member.
    Member(&'static str),
    Index(usize),
    Key(String),
}

impl Checker {
    /// Appends a segment to the current path, which only a build with messages keeps.
    #[inline(always)]
    fn enter(&mut self, segment: impl FnOnce() -> Segment) {
        if cfg!(feature = "messages") {
            self.path.push(segment());
        }
    }

    /// Removes the last segment that `enter` appended.
    #[inline(always)]
    fn leave(&mut self) {
        if cfg!(feature = "messages") {
            self.path.pop();
        }
    }

    /// Runs `f` with `field` appended to the current path.
    pub(crate) fn field(&mut self, field: &'static str, f: impl FnOnce(&mut Self)) {
        self.enter(|| Segment::Field(field));
        f(self);
        self.leave();
    }

    /// Runs `f` for every item of a list, with `[i]` appended to the current path.
    pub(crate) fn each<T>(
        &mut self,
        field: &'static str,
        items: &[T],
        mut f: impl FnMut(&mut Self, usize, &T),
    ) {
        self.enter(|| Segment::Field(field));
        for (i, item) in items.iter().enumerate() {
            self.enter(|| Segment::Index(i));
            f(self, i, item);
            self.leave();
        }
        self.leave();
    }

    /// Runs `f` with `[i]` appended to the current path.
    pub(crate) fn index(&mut self, i: usize, f: impl FnOnce(&mut Self)) {
        self.enter(|| Segment::Index(i));
        f(self);
        self.leave();
    }

    /// Runs `f` with a member (named by its Rust field) appended to the current path.
    pub(crate) fn member_path(&mut self, field: &'static str, f: impl FnOnce(&mut Self)) {
        self.enter(|| Segment::Member(field));
        f(self);
        self.leave();
    }

    /// Runs `f` with a map key appended to the current path.
    pub(crate) fn key(&mut self, key: &str, f: impl FnOnce(&mut Self)) {
        self.enter(|| Segment::Key(key.to_owned()));
        f(self);
        self.leave();
    }

    /// Records a problem at the current path.
    // Always inlined, so that in a build without messages the text is dropped where it is written and no
    // caller passes it on (the literals then drop out of the wasm too).
    #[inline(always)]
    pub fn fail(&mut self, message: impl Into<String>) {
        self.record(recorded(message));
    }

    fn record(&mut self, message: String) {
        if !cfg!(feature = "messages") && !self.problems.is_empty() {
            // Without messages or paths, one problem says all there is to say: that there is one.
            return;
        }
        if self.problems.len() >= MAX_PROBLEMS {
            self.more += 1;
            return;
        }
        let path = if cfg!(feature = "messages") { self.render_path() } else { String::new() };
        self.problems.push(Problem { path, message });
    }

    /// Records a problem at `field` under the current path.
    #[inline(always)]
    pub(crate) fn fail_at(&mut self, field: &'static str, message: impl Into<String>) {
        let message = recorded(message);
        self.field(field, |c| c.record(message));
    }

    /// Records a problem unless `ok`.
    pub(crate) fn require(&mut self, field: &'static str, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.fail_at(field, message());
        }
    }

    /// The current path as text, e.g. `tiers[2].name.en`.
    pub(crate) fn render_path(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            match segment {
                Segment::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
                Segment::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Segment::Member(field) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&crate::json::camel_case(field));
                }
            }
        }
        out
    }

    /// Ends the walk: `Ok` when nothing was recorded, else every problem.
    pub(crate) fn finish(mut self) -> Result<(), Problems> {
        if self.more > 0 {
            let message = message!("and {} more problems", self.more);
            self.problems.push(Problem { path: String::new(), message });
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(self.problems))
        }
    }
}

/// `before`, then `value` in double quotes: `format!("{before}\"{value}\"")`, written by hand for the
/// messages a build without `messages` keeps (the shell shows them), so that they link no formatting.
pub(crate) fn quoting(before: &str, value: &str) -> String {
    let mut out = String::with_capacity(before.len() + value.len() + 2);
    out.push_str(before);
    out.push('"');
    out.push_str(value);
    out.push('"');
    out
}

/// Checks an identifier chosen by the merchant (tier, reward, bonus, campaign, product ids).
pub(crate) fn check_id(c: &mut Checker, field: &'static str, id: &str) {
    c.field(field, |c| check_id_here(c, id));
}

/// Checks an identifier at the current path (an item of a list of ids).
pub(crate) fn check_id_here(c: &mut Checker, id: &str) {
    if id.is_empty() {
        c.fail("must not be empty");
    } else if id.len() > 128 {
        c.fail(message!("must be at most 128 bytes long, got {}", id.len()));
    } else if id.chars().any(char::is_control) {
        c.fail("must not contain control characters");
    }
}

/// Checks that an integer lies in `min..=max`.
pub(crate) fn check_range(c: &mut Checker, field: &'static str, value: i64, min: i64, max: i64) {
    if value < min || value > max {
        c.fail_at(field, message!("must be between {min} and {max}, got {value}"));
    }
}

/// Checks that ids in a list are unique; reports each repeat at its own index.
pub(crate) fn check_unique<'a>(c: &mut Checker, list: &'static str, ids: impl Iterator<Item = &'a str>) {
    let mut seen: Vec<&str> = Vec::new();
    let ids: Vec<&str> = ids.collect();
    c.each(list, &ids, |c, i, id| {
        if let Some(first) = seen.iter().position(|s| s == id) {
            c.fail_at("id", message!("duplicate id \"{id}\" (also at index {first})"));
        }
        seen.push(ids[i]);
    });
}
