//! Project conventions, checked as ordinary tests (STYLE.md rule 17): every Rust file opens with a `//!`
//! line saying what it is for; the rules core names no browser crate; no closure is leaked with `forget()`;
//! no string reaches the DOM as HTML (in the Rust views and in the JS glue of `js/`).
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources(dirs: &[&str]) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in dirs {
        let dir = root.join(dir);
        if dir.exists() {
            rust_files(&dir, &mut files);
        }
    }
    assert!(!files.is_empty(), "found no sources under {dirs:?}");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable source");
            (p, text)
        })
        .collect()
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let missing: Vec<_> = sources(&[
        "src",
        "core/src",
        "core/tests",
        "tests",
        "server/src",
        "shell/src",
        "recs/src",
        "recs/tests",
    ])
    .into_iter()
    .filter(|(_, text)| !text.trim_start().starts_with("//!"))
    .map(|(p, _)| p)
    .collect();
    assert!(missing.is_empty(), "files without a leading //! line: {missing:?}");
}

#[test]
fn core_names_no_browser_crate() {
    for (path, text) in sources(&["core"]) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for banned in ["wasm_bindgen", "web_sys", "js_sys", "gloo"] {
                assert!(!code.contains(banned), "{}:{}: core must not use {banned}", path.display(), n + 1);
            }
        }
    }
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("core/Cargo.toml"))
        .expect("core manifest");
    for banned in ["wasm-bindgen", "web-sys", "js-sys", "gloo"] {
        assert!(!manifest.contains(banned), "core/Cargo.toml must not depend on {banned}");
    }
}

#[test]
fn no_leaked_closures_and_no_html_injection() {
    for (path, text) in sources(&["src"]) {
        for (n, line) in text.lines().enumerate() {
            // Whole comment lines are skipped; a line of code is read whole (cutting it at `//` hid whatever
            // followed a URL literal).
            if line.trim_start().starts_with("//") {
                continue;
            }
            let code = line;
            assert!(!code.contains(".forget()"), "{}:{}: give the closure an owner", path.display(), n + 1);
            for banned in [
                "set_inner_html",
                "innerHTML",
                "insertAdjacentHTML",
                "insert_adjacent_html",
                "set_outer_html",
                "create_contextual_fragment",
                "set_html_unsafe",
                "js_sys::eval",
                "Function::new_with_args",
                "Function::new_no_args",
            ] {
                assert!(
                    !code.contains(banned),
                    "{}:{}: strings reach the DOM only as text",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn the_js_glue_writes_no_html_and_evaluates_no_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).expect("js/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&path).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "createContextualFragment",
                "setHTMLUnsafe",
                "eval(",
                "new Function",
            ] {
                assert!(!code.contains(banned), "{}:{}: no {banned} in the glue", path.display(), n + 1);
            }
        }
    }
    assert!(checked >= 3, "found {checked} files in js/");
}
