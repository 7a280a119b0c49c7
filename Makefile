# The two commands a new machine needs (see README.md): `make demo` and `make test`.
.PHONY: demo test setup size bench-server
demo:
	./scripts/demo.sh

test:
	./scripts/test.sh

setup:
	./scripts/setup.sh

size:
	./scripts/build.sh && ./scripts/size-report.sh

# Load benchmark of the reference server (wrk, optimised build, 10,000 shoppers); prints figures.
bench-server:
	./scripts/bench-server.sh
