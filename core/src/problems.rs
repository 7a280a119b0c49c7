//! Collects every problem found while validating input, each with the JSON path it concerns.
//!
//! Validation never stops at the first problem: a merchant fixing a program wants the whole list at once,
//! e.g. `tiers[2].threshold: must be greater than tiers[1].threshold (500)`.

use serde::Serialize;
use std::fmt;

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
    /// A single problem.
    pub fn one(path: impl Into<String>, message: impl Into<String>) -> Problems {
        Problems(vec![Problem { path: path.into(), message: message.into() }])
    }

    /// Adds a problem (for checks that gather several before deciding).
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    /// Prefixes every path with `root` (the name of the argument or document the problems are in).
    pub fn under(mut self, root: &str) -> Problems {
        for problem in &mut self.0 {
            problem.path = if problem.path.is_empty() {
                root.to_owned()
            } else if problem.path.starts_with('[') {
                format!("{root}{}", problem.path)
            } else {
                format!("{root}.{}", problem.path)
            };
        }
        self
    }
}

/// The most problems one walk reports; past it they are counted, and the count is the last problem
/// ("and 12 more problems"), so a body of a million mistakes cannot become an answer of several megabytes.
pub const MAX_PROBLEMS: usize = 50;

/// Walks a document, tracking the current path, and records every problem against it. Used by decoding
/// ([`crate::json::FromJson`]) and by validation.
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
    /// Runs `f` with `field` appended to the current path.
    pub(crate) fn field(&mut self, field: &'static str, f: impl FnOnce(&mut Self)) {
        self.path.push(Segment::Field(field));
        f(self);
        self.path.pop();
    }

    /// Runs `f` for every item of a list, with `[i]` appended to the current path.
    pub(crate) fn each<T>(
        &mut self,
        field: &'static str,
        items: &[T],
        mut f: impl FnMut(&mut Self, usize, &T),
    ) {
        self.path.push(Segment::Field(field));
        for (i, item) in items.iter().enumerate() {
            self.path.push(Segment::Index(i));
            f(self, i, item);
            self.path.pop();
        }
        self.path.pop();
    }

    /// Runs `f` with `[i]` appended to the current path.
    pub(crate) fn index(&mut self, i: usize, f: impl FnOnce(&mut Self)) {
        self.path.push(Segment::Index(i));
        f(self);
        self.path.pop();
    }

    /// Runs `f` with a member (named by its Rust field) appended to the current path.
    pub(crate) fn member_path(&mut self, field: &'static str, f: impl FnOnce(&mut Self)) {
        self.path.push(Segment::Member(field));
        f(self);
        self.path.pop();
    }

    /// Runs `f` with a map key appended to the current path.
    pub(crate) fn key(&mut self, key: &str, f: impl FnOnce(&mut Self)) {
        self.path.push(Segment::Key(key.to_owned()));
        f(self);
        self.path.pop();
    }

    /// Records a problem at the current path.
    pub fn fail(&mut self, message: impl Into<String>) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.more += 1;
            return;
        }
        let path = self.render_path();
        self.problems.push(Problem { path, message: message.into() });
    }

    /// Records a problem at `field` under the current path.
    pub(crate) fn fail_at(&mut self, field: &'static str, message: impl Into<String>) {
        self.field(field, |c| c.fail(message));
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
            let message = format!("and {} more problems", self.more);
            self.problems.push(Problem { path: String::new(), message });
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(self.problems))
        }
    }
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
        c.fail(format!("must be at most 128 bytes long, got {}", id.len()));
    } else if id.chars().any(char::is_control) {
        c.fail("must not contain control characters");
    }
}

/// Checks that an integer lies in `min..=max`.
pub(crate) fn check_range(c: &mut Checker, field: &'static str, value: i64, min: i64, max: i64) {
    if value < min || value > max {
        c.fail_at(field, format!("must be between {min} and {max}, got {value}"));
    }
}

/// Checks that ids in a list are unique; reports each repeat at its own index.
pub(crate) fn check_unique<'a>(c: &mut Checker, list: &'static str, ids: impl Iterator<Item = &'a str>) {
    let mut seen: Vec<&str> = Vec::new();
    let ids: Vec<&str> = ids.collect();
    c.each(list, &ids, |c, i, id| {
        if let Some(first) = seen.iter().position(|s| s == id) {
            c.fail_at("id", format!("duplicate id \"{id}\" (also at index {first})"));
        }
        seen.push(ids[i]);
    });
}
