//! The wasm's exports: plain functions over one text in and one text out, so the worker needs no glue. The
//! worker asks for an input buffer of the text's length (`input`), writes the text's UTF-8 bytes there, then
//! calls `catalog` (read and index it; 1 or 0) or `list` (the list's text: its length, 0 for none; its bytes
//! at `output`). Memory may grow during a call, so the worker takes a new view of it after each.
//!
//! A product's points come from the one import, `host.points`: the worker asks the shell's wasm, which holds
//! the same program and shopper and computes with loyalty-core's earning, so this module links no earning
//! rules and shows what the badges show.
//!
//! `#[no_mangle]` and the import's declaration are what the `unsafe_code` lint counts here (this crate denies
//! the lint and allows it in this module alone): the buffers are Rust's own vectors, read and written by the
//! worker through the module's memory.
#![allow(unsafe_code)]

use crate::{Catalog, ListQuestion};
use loyalty_core::ProductOffer;
use std::cell::Cell;

#[link(wasm_import_module = "host")]
extern "C" {
    /// The points `len` bytes at `text` earn (a product as [`crate::offer_text`] writes it), or NaN.
    fn points(text: *const u8, len: usize) -> f64;
}

/// A product's points, asked of the worker.
fn points_of(offer: &ProductOffer) -> Option<i64> {
    let text = crate::offer_text(offer)?;
    // SAFETY: the import reads `len` bytes at `text` (a live string, kept until it returns) and nothing else;
    // it calls back into no export of this module, so the state taken out by `with` is not needed meanwhile.
    let points = unsafe { points(text.as_ptr(), text.len()) };
    (points.is_finite() && points >= 0.0).then_some(points as i64)
}

#[derive(Default)]
struct State {
    input: Vec<u8>,
    output: String,
    catalog: Option<Catalog>,
}

impl State {
    const EMPTY: State = State { input: Vec::new(), output: String::new(), catalog: None };
}

// Taken out and put back, as the shell's page is: nothing here calls out while it holds the state.
thread_local! {
    static STATE: Cell<State> = const { Cell::new(State::EMPTY) };
}

fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|cell| {
        let mut state = cell.take();
        let out = f(&mut state);
        cell.set(state);
        out
    })
}

/// A buffer of `len` bytes for the next call's text; its address in memory.
#[no_mangle]
pub extern "C" fn input(len: usize) -> *mut u8 {
    with(|state| {
        state.input = vec![0; len];
        state.input.as_mut_ptr()
    })
}

/// Reads the input as a catalog in columns and indexes it (replacing the one held): 1, or 0 when it does not
/// read (and no catalog is held).
#[no_mangle]
pub extern "C" fn catalog() -> u32 {
    with(|state| {
        let input = std::mem::take(&mut state.input);
        state.catalog = std::str::from_utf8(&input).ok().and_then(Catalog::read);
        u32::from(state.catalog.is_some())
    })
}

/// The list for the input (a [`ListQuestion`]): the length of its text at [`output`], or 0 for none (no
/// catalog, or no program the rules accept).
#[no_mangle]
pub extern "C" fn list() -> usize {
    with(|state| {
        let input = std::mem::take(&mut state.input);
        let text = std::str::from_utf8(&input).ok().and_then(ListQuestion::read);
        let listed = match (text, &state.catalog) {
            (Some(question), Some(catalog)) => crate::list(catalog, &question, &points_of),
            _ => None,
        };
        state.output = listed.unwrap_or_default();
        state.output.len()
    })
}

/// Where the last list's text is.
#[no_mangle]
pub extern "C" fn output() -> *const u8 {
    with(|state| state.output.as_ptr())
}
