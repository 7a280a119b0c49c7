# Shared environment for the project's scripts (sourced, not run).
# A cargo target directory outside the clone keeps rebuilds fast across clones; a fresh machine still works.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/storefront-loyalty/target}"
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
