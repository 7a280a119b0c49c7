//! Fuzz target `catalog`: JSON text as a catalog of objects and as a catalog in columns, through the decoders,
//! the index and the ranking (the check is `loyalty_fuzz::check_catalog`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loyalty_fuzz::check_catalog(data));
