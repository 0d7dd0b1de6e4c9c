# atrest — see README.md. The two commands a new machine needs: make demo, make test.
GO      ?= go
BIN     := bin/atrest
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED ?= 0
# The detectors' skip loop uses the standard library's simd/archsimd (AVX2),
# which Go 1.26 builds only with this experiment; without it (a plain
# `go build`) the same code runs a portable SWAR loop, about 15% slower.
export GOEXPERIMENT ?= simd

.PHONY: build test vet eval demo bench clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/atrest

vet:
	$(GO) vet ./...
	GOEXPERIMENT= $(GO) vet ./audit/detect/
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)

# Unit and integration tests (throwaway MariaDB, S3 peers), the scorers on the
# labeled corpus included (cmd/atrest eval tests).
test: vet
	$(GO) test -count=1 -timeout 40m ./...
	GOEXPERIMENT= $(GO) test -count=1 ./audit/detect/   # the portable skip loop too

# Print the corpus scorers' tables (internal/eval on testdata/corpus; they
# also run inside make test).
eval:
	$(GO) test -count=1 -run 'TestEval(Files|DB)Corpus' -v ./cmd/atrest/ | grep -v '^=== '

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/deps.sh bench
	bash scripts/bench.sh

clean:
	rm -rf bin
