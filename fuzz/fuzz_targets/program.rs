//! Fuzz target `program`: a loyalty program as JSON text, through the parser, the validator, serialisation
//! and the earn rules (the check is `loyalty_fuzz::check_program`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loyalty_fuzz::check_program(data));
