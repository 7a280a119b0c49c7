//! The shell's quiet reader ([`ReadJson`]) against the full decoder ([`FromJson`]) on documents the property
//! tests cannot write: `serde_json::Value` keeps one member per name, so no generated document repeats one.
//! Both decoders promise to accept exactly the same documents (core/src/json.rs); each case here is a document
//! and, for every type the shell reads, the verdict both must give.

use loyalty_core::{Cart, EarnConfig, FromJson, ReadJson, ShopperGlance, ShopperState};

const PROGRAM: &str = r#"{"version":1,"currency":"CNY","locales":["en"],"name":{"en":"Club"},
    "earn":{"rate":{"points":1,"perAmount":100}},
    "rewards":[{"id":"r","name":{"en":"R"},"kind":"amountOff","cost":5,"amountOff":100}]}"#;

const STATE: &str = r#"{"customerId":"alice",
    "balance":{"available":500,"pending":[],"expiring":[],"expired":0,"lifetimeEarned":500},
    "rewards":{"affordable":[],"next":null,"blocked":false},
    "activity":[],"codes":[],"asOf":1767225600}"#;

/// Both decoders of `T` give `text` the same verdict.
fn agree<T: FromJson + ReadJson>(name: &str, text: &str) -> Result<(), String> {
    let quiet = T::read_str(text).is_some();
    let full = T::from_json_str(text).is_ok();
    if quiet == full {
        Ok(())
    } else {
        Err(format!("{name}: the quiet reader says {quiet}, the full decoder {full}: {text}"))
    }
}

#[test]
fn a_member_repeated_inside_a_value_the_shell_passes_over_is_refused_by_both_readers() {
    let cases = [
        // A program's reward, which the shell's projection skips unread, with its name twice.
        ("EarnConfig", PROGRAM.replace(r#""name":{"en":"R"}"#, r#""name":{"en":"R"},"name":{"en":"S"}"#)),
        // The program's name with one locale twice.
        ("EarnConfig", PROGRAM.replace(r#"{"en":"Club"}"#, r#"{"en":"Club","en":"Other"}"#)),
        // The shopper's activity, which the glance skips unread, with a member twice.
        ("ShopperState", STATE.replace(r#""activity":[]"#, r#""activity":[{"at":1,"at":2}]"#)),
        // The same for the glance itself: an unknown member whose object repeats a name.
        ("ShopperGlance", STATE.replace(r#""codes":[]"#, r#""codes":[],"newer":{"a":1,"a":2}"#)),
    ];
    let mut failures = Vec::new();
    for (kind, text) in &cases {
        let said = match *kind {
            "EarnConfig" => agree::<EarnConfig>(kind, text),
            "ShopperState" => agree::<ShopperState>(kind, text),
            _ => {
                // The glance has no full decoder of its own: the state's is the one that counts.
                let quiet = ShopperGlance::read_str(text).is_some();
                let full = ShopperState::from_json_str(text).is_ok();
                if quiet == full {
                    Ok(())
                } else {
                    Err(format!("ShopperGlance says {quiet}, ShopperState's decoder {full}: {text}"))
                }
            }
        };
        if let Err(message) = said {
            failures.push(message);
        }
    }
    // A cart line with a repeated member is the control: read by both readers member by member, refused by both.
    let cart = r#"{"currency":"CNY","lines":[{"productId":"a","productId":"b","unitPrice":1,"quantity":1}]}"#;
    if let Err(message) = agree::<Cart>("Cart", cart) {
        failures.push(message);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
