# The two commands a new machine needs (see README.md): `make demo` and `make test`.
.PHONY: demo test setup size dist bench profile bench-server eval-recs bench-recs fuzz
demo:
	./scripts/demo.sh

test:
	./scripts/test.sh

setup:
	./scripts/setup.sh

size:
	./scripts/build.sh && node scripts/size-report.mjs

# The files a merchant hosts or a CDN serves (versioned names, SRI hashes printed), in dist/.
dist:
	./scripts/build.sh && node scripts/dist.mjs

# What the widget costs the demo product page in headless Chromium, as issue 17 measures it (guest and signed in,
# unthrottled and at 4x CPU, 1.6 Mbps / 150 ms): first load, main thread, longest task, first render, CLS, Lighthouse.
bench:
	./scripts/bench.sh

# Where the bytes and the milliseconds go: twiggy on the release wasm (names kept in a profiling build of the same
# code) by item, dominator and group, and CPU profiles of the demo product page by phase. Installs twiggy if missing.
profile:
	./scripts/profile.sh

# Load benchmark of the reference server (wrk, optimised build, 10,000 shoppers); prints figures.
bench-server:
	./scripts/bench-server.sh

# Recommendation quality on real baskets (../shared/datasets/groceries.csv): the production ranking against
# most-popular and co-occurrence, hit rate@10 and NDCG@10 with bootstrap intervals; prints a table.
eval-recs:
	. scripts/env.sh && cargo run --release --locked -p loyalty-core --example eval_recs -- $${DATASET:-../shared/datasets/groceries.csv}

# The recommender's speed: wasm against a plain JavaScript version in headless Chromium, and native; prints a table.
bench-recs:
	./scripts/bench-recs.sh

# Fuzzing of loyalty-core (cargo-fuzz, libFuzzer): each target for FUZZ_SECONDS (default 60); prints executions per
# target. Not part of `make test`, which replays the kept inputs of fuzz/regressions/ instead (fuzz/README.md).
fuzz:
	./scripts/fuzz.sh
