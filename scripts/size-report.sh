#!/usr/bin/env bash
# Prints what a shopper downloads for the widget (release build in pkg/), raw and gzipped (-9), and fails when
# the gzipped total is above the limit in size-budget (one number, in KB). The limit may only go down: it also
# fails when size-budget is above any limit committed before it.
set -euo pipefail
cd "$(dirname "$0")/.."
# First load: what a product page downloads before anyone touches the widget (the loader with the shell's glue,
# elements and CSS; the shell's wasm). The panel's files load on demand and are printed below, not counted.
files=(pkg/storefront-loyalty.js pkg/shell_bg.wasm)
names=("loader + shell" "shell wasm")
later=(pkg/elements.js pkg/storefront_loyalty.js pkg/storefront_loyalty_bg.wasm)
later_names=("panel elements" "panel glue" "panel wasm")
for f in "${files[@]}" "${later[@]}"; do
  [ -f "$f" ] || { echo "missing $f: run scripts/build.sh first"; exit 1; }
done
limit_of() { sed -n 's/^\([0-9][0-9]*\) KB.*/\1/p' | head -1; }
limit=$(limit_of < size-budget)
[ -n "$limit" ] || { echo "size-budget: the first line must be the limit, such as \"231 KB\""; exit 1; }

printf 'size report (release, gzip -9)\n'
total_raw=0
total_gz=0
for i in "${!files[@]}"; do
  raw=$(wc -c < "${files[$i]}")
  gz=$(gzip -9 -c "${files[$i]}" | wc -c)
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
  printf '  %-16s %8s bytes raw  %8s bytes gzipped\n' "${names[$i]}" "$raw" "$gz"
done
printf '  %-16s %8s bytes raw  %8s bytes gzipped (%s.%s KB; limit %s KB in size-budget; target 60 KB)\n' "first load" \
  "$total_raw" "$total_gz" "$((total_gz / 1024))" "$(((total_gz % 1024) * 10 / 1024))" "$limit"
printf 'loaded when first needed (the panel, redemptions, recommendations):\n'
for i in "${!later[@]}"; do
  printf '  %-16s %8s bytes raw  %8s bytes gzipped\n' "${later_names[$i]}" "$(wc -c < "${later[$i]}")" "$(gzip -9 -c "${later[$i]}" | wc -c)"
done

status=0
if [ "$total_gz" -gt $((limit * 1024)) ]; then
  echo "FAIL: the widget downloads $total_gz bytes gzipped, over the limit of $limit KB ($((limit * 1024)) bytes) in size-budget"
  status=1
fi
# The limit only goes down: compare with every limit committed before (when the history is here).
if git rev-parse --git-dir >/dev/null 2>&1; then
  lowest=""
  for commit in $(git log --format=%H -- size-budget 2>/dev/null); do
    earlier=$(git show "$commit:size-budget" 2>/dev/null | limit_of || true)
    if [ -n "$earlier" ] && { [ -z "$lowest" ] || [ "$earlier" -lt "$lowest" ]; }; then lowest=$earlier; fi
  done
  if [ -n "$lowest" ] && [ "$limit" -gt "$lowest" ]; then
    echo "FAIL: size-budget says $limit KB, above the $lowest KB committed before; the limit may only go down"
    status=1
  fi
fi
exit "$status"
