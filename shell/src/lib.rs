//! The widget's shell: what a product page needs before anyone touches the widget (the points badges and the
//! launcher's balance), as a wasm module of its own that links only the part of loyalty-core it uses. The
//! loader (`js/loader.js`) reads the program and the shopper's state (cache first), hands their JSON text
//! here and draws what this module says; the panel, its writes and the recommendations load when first
//! needed. See ARCHITECTURE.md, "The featherweight start".
//!
//! Size rules here: the program is read as an [`loyalty_core::EarnConfig`] (the members earning reads) by the
//! quiet reader ([`loyalty_core::ReadJson`]: no tree, no message); what cannot be read is refused without
//! saying why, and the full module explains it when it loads. For the same reason loyalty-core is built here
//! without its `messages` feature: validation and earning give the same verdicts, with no message text (the
//! shell's own feature `messages`, which its tests turn on, brings them back).

pub mod badge;
pub mod history;
pub mod list;
pub mod settings;
pub mod texts;

#[cfg(feature = "exports")]
mod exports;
