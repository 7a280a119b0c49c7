// The size half of `make profile`: reads twiggy's JSON for the profiling wasm (the release wasm with its name
// section kept) and prints the top items, the top dominators (retained sizes) and the bytes by group, where
// each group is a list of name patterns printed beside it. Run by scripts/profile.sh.
// Usage: node scripts/profile-size.mjs top.json dominators.json release.wasm [rows]
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const [topFile, domFile, releaseWasm, rowsArg] = process.argv.slice(2);
const ROWS = Number(rowsArg ?? 30);
const top = JSON.parse(readFileSync(topFile, "utf8"));
const tree = JSON.parse(readFileSync(domFile, "utf8")).items[0];
const release = readFileSync(releaseWasm);
const exports = new Set(WebAssembly.Module.exports(new WebAssembly.Module(release)).map((e) => e.name));
const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);
const pct = (n, of) => `${((100 * n) / of).toFixed(1)}%`.padStart(6);
// Crate disambiguators (`core[c5930c85a12de822]::fmt`) and symbol hashes are dropped before matching.
const plainName = (name) => name.replace(/\[[0-9a-f]{16}\]/g, "").replace(/::h[0-9a-f]{16}$/, "");
const short = (name, width = 96) => {
  const plain = plainName(name);
  return plain.length > width ? `${plain.slice(0, width - 1)}…` : plain;
};

// The name section exists only in the profiling build; every other byte is the release build's, item for
// item (scripts/profile.sh checks that wasm-opt -Oz without -g reproduces the release wasm exactly).
const isNames = (name) => /subsection"?$|^custom section 'name'/.test(name);
const releaseBytes = release.length;
const named = top.filter((i) => !isNames(i.name));

// Groups, first match wins, so the order matters: a `Debug::fmt` of a core type is formatting, not rules; a
// serde `Serialize` impl inside core is serde output, not rules.
const exportName = (name) => exports.has(name.replace(/( externref shim| multivalue shim)+$/, ""));
const groups = [
  ["panics (messages, locations, unwrap/expect failures)", /panic|unwrap_failed|expect_failed|slice_(start_|end_)?index|index_out_of_bounds|str_index|slice_error_fail|capacity_overflow|handle_alloc_error|\babort\b|unreachable/i],
  ["core::fmt (formatting, Display/Debug impls, fmt::Write)", /core::fmt|alloc::fmt|::fmt::|\bfmt::h|as core::fmt::|<&T as core::fmt|::to_string|format_inner|pad_integral|float_to_decimal/],
  ["export shims of the API (#[wasm_bindgen] wrappers, argument conversion inlined)", { test: (n) => exportName(n) || / shim$/.test(n) }],
  ["serde output (Serialize impls, serde-wasm-bindgen)", /serde|Serialize/],
  ["JSON decoding (loyalty_core::json, FromJson decoders, columns)", /loyalty_core::json|FromJson|from_json|loyalty_core::columns/],
  ["wasm-bindgen / web-sys / js-sys bindings, imports, futures, gloo", /^import |^<?(web_sys|js_sys|wasm_bindgen|wasm_bindgen_futures|gloo_\w+)::|__wbindgen|__wbg_|__externref|externref/],
  ["views and the DOM door (storefront_loyalty::views, ::dom, ::i18n)", /storefront_loyalty::(views|dom|i18n)/],
  ["client shell (client, store, net, storage, history, config, errors)", /storefront_loyalty::/],
  ["rules (loyalty_core except json; qrcodegen)", /loyalty_core::|qrcodegen/],
  ["std: alloc, core (slices, sort, str), hashbrown, dlmalloc, builtins", /^<?(alloc|core|std|dlmalloc|compiler_builtins|hashbrown)::|dlmalloc|^__|memcpy|memset|memmove|memcmp/],
  ["data segments (strings, tables)", /^data segment|^data\[/],
];
const totals = groups.map(() => ({ bytes: 0, items: 0, biggest: [] }));
let rest = { bytes: 0, items: 0, biggest: [] };
const groupOf = new Map();
for (const item of named) {
  const g = groups.findIndex(([, re]) => re.test(plainName(item.name)));
  const slot = g < 0 ? rest : totals[g];
  slot.bytes += item.shallow_size;
  slot.items += 1;
  slot.biggest.push(item);
  groupOf.set(item.name, g);
}

console.log(`wasm: release ${kb(releaseBytes)} raw, ${kb(gzipSync(release, { level: 9 }).length)} gzip -9`);
console.log(`      profiling build (same code, name section kept): names ${kb(top.filter((i) => isNames(i.name)).reduce((s, i) => s + i.shallow_size, 0))} extra`);

console.log(`\ntop ${ROWS} items by shallow size (twiggy top; % of the release wasm)`);
for (const item of named.slice(0, ROWS)) console.log(`  ${kb(item.shallow_size)} ${pct(item.shallow_size, releaseBytes)}  ${short(item.name)}`);

// Every node of the dominator tree with its retained size: what would go if that item went. The chain from
// the root through the function table (`table[0]`, `elem[0]`) is skipped: it retains everything called
// indirectly and says nothing.
const flat = [];
const walk = (node, depth) => {
  if (depth > 0 && !/^(table|elem)\[\d+\]$/.test(node.name) && !isNames(node.name)) flat.push({ ...node, depth });
  for (const child of node.children ?? []) walk(child, depth + 1);
};
walk(tree, 0);
flat.sort((a, b) => b.retained_size - a.retained_size);
console.log(`\ntop ${ROWS} dominators by retained size (twiggy dominators; retained = the item and all it alone reaches)`);
for (const node of flat.slice(0, ROWS)) {
  console.log(`  ${kb(node.retained_size)} ${pct(node.retained_size, releaseBytes)}  (own ${kb(node.shallow_size).trim()})  ${short(node.name, 84)}`);
}

console.log(`\nbytes by group (shallow, raw, each item in the first group whose pattern matches its name)`);
const rows = groups.map(([label, re], i) => ({ label, re, ...totals[i] }));
rows.push({ label: "other (type, function and export sections, unnamed glue)", re: null, ...rest });
for (const row of rows) {
  console.log(`  ${kb(row.bytes)} ${pct(row.bytes, releaseBytes)}  ${String(row.items).padStart(4)} items  ${row.label}`);
  console.log(`${" ".repeat(32)}pattern: ${row.re ? (row.re instanceof RegExp ? row.re.source : "a name the wasm exports, or ending in \" shim\"") : "none matched"}`);
  const biggest = row.biggest.sort((a, b) => b.shallow_size - a.shallow_size).slice(0, 3);
  console.log(`${" ".repeat(32)}largest: ${biggest.map((i) => `${short(i.name, 50)} ${kb(i.shallow_size).trim()}`).join("; ")}`);
}
console.log(`  ${kb(rows.reduce((s, r) => s + r.bytes, 0))} ${pct(rows.reduce((s, r) => s + r.bytes, 0), releaseBytes)}  in all`);
// The shims split: what the elements call (`Widget`, `ElementSettings`) and the headless API's.
const shims = rows.find((r) => r.label.startsWith("export shims")).biggest;
const forElements = shims.filter((i) => /^(widget_|elementsettings_|elementSettings|__wbg_widget|__wbg_elementsettings)/.test(i.name));
const sum = (items) => items.reduce((s, i) => s + i.shallow_size, 0);
console.log(`  export shims: the elements' (Widget, ElementSettings) ${kb(sum(forElements)).trim()}, the headless API's ${kb(sum(shims) - sum(forElements)).trim()}`);

// Retained by group: the roots of the group (members not dominated by another member) with everything they
// alone reach, whatever its name; e.g. what the export shims would take with them.
console.log(`\nretained by group (a group's items and everything only they reach; groups overlap)`);
for (const [i, [label]] of groups.entries()) {
  let bytes = 0;
  const visit = (node, inside) => {
    const member = groupOf.get(node.name) === i;
    if (member && !inside) bytes += node.retained_size;
    for (const child of node.children ?? []) visit(child, inside || member);
  };
  visit(tree, false);
  console.log(`  ${kb(bytes)} ${pct(bytes, releaseBytes)}  ${label}`);
}

// Retained by feature: the features a product page's first render does not call, by name pattern (dominator
// roots only, so nothing counts twice inside one feature; features may overlap a little).
console.log(`\nretained by feature (items whose name matches, with everything only they reach)`);
const features = [
  ["recommendations (ranking, index, columns, history, their shims)", /recommend|Recommendation|recommendationindex|CatalogIndex|IndexBuilder|columns|history/i],
  ["QR code (qr, qrcodegen)", /qr|qrcodegen/i],
  ["referrals (codes, links, share intents)", /referral|share_intent|shareIntent/i],
  ["the panel's rewards, redeem, birthday", /views::panel|redeem|birthday|rewardsOverview/i],
  ["serde output", /serde|Serialize/],
  ["program validation", /validate/],
];
for (const [label, re] of features) {
  let bytes = 0;
  const visit = (node, inside) => {
    const member = re.test(plainName(node.name));
    if (member && !inside) bytes += node.retained_size;
    for (const child of node.children ?? []) visit(child, inside || member);
  };
  visit(tree, false);
  console.log(`  ${kb(bytes)} ${pct(bytes, releaseBytes)}  ${label}  (pattern: ${re.source})`);
}
