# atrest — see README.md. The two commands a new machine needs: make demo, make test.
GO      ?= go
BIN     := bin/atrest
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED ?= 0
# The detectors pick their skip loop at run time: on x86-64 AVX2 where the CPU
# has it, else SSE2 (every x86-64 CPU has it); elsewhere a portable Go loop. A
# plain `go build` is the build users get. Two build tags run the other loops
# on this machine, and make vet, make test and make bench use them: noavx2
# runs the SSE2 loop (what a CPU without AVX2 runs), noasm the portable loop
# (no assembly: what arm64 runs).

.PHONY: build test vet eval demo demo-stop bench clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/atrest

vet:
	$(GO) vet ./...
	$(GO) vet -tags noavx2 ./audit/detect/   # the SSE2 loop's build
	$(GO) vet -tags noasm ./audit/detect/    # the portable loop's build, no assembly
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)

# Unit and integration tests (throwaway MariaDB, S3 peers), the scorers on the
# labeled corpus included (cmd/atrest eval tests).
test: vet
	$(GO) test -count=1 -timeout 40m ./...
	$(GO) test -count=1 -tags noavx2 ./audit/detect/   # the scan on the SSE2 skip loop
	$(GO) test -count=1 -tags noasm ./audit/detect/    # and on the portable Go loop

# Print the corpus scorers' tables (internal/eval on testdata/corpus; they
# also run inside make test).
eval:
	$(GO) test -count=1 -run 'TestEval(Files|DB)Corpus' -v ./cmd/atrest/ | grep -v '^=== '

demo: build
	bash scripts/demo.sh

# Stop what make demo left running (its dashboard, MariaDB servers and S3 server).
demo-stop:
	bash scripts/demo.sh stop

bench: build
	bash scripts/deps.sh bench
	bash scripts/bench.sh

clean:
	rm -rf bin
