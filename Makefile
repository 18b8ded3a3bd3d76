# Marquee — `make help` lists the targets. Scripts behind them live in scripts/.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Go lives at /usr/local/go on a fresh machine, which a fresh shell may not have on PATH.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := $(PATH):/usr/local/go/bin
endif

GO        ?= go
BIN       := bin/marquee
ADDR      ?= 127.0.0.1:8080
DATA_DIR  ?= ./.marquee
TOOLS_BIN := $(CURDIR)/.tools/bin

# What `make test` points the suite at, unless the environment says otherwise.
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
TEST_REDIS_URL    := redis://127.0.0.1:6379/0
GO_TEST_FLAGS     ?= -race -count=1 -timeout 15m
TEST_ENV = DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}"

.PHONY: help build run test test-go deps services e2e bench lint tools migrate clean

help: ## List the targets (default)
	@echo "Usage: make TARGET [ADDR=$(ADDR)] [DATA_DIR=$(DATA_DIR)]"
	@echo
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

build: ## Build bin/marquee
	$(GO) build -o $(BIN) ./cmd/marquee

run: build ## Build and run the all-in-one dev server (with its in-process worker) on ADDR with DATA_DIR
	bash scripts/media-tools.sh
	./$(BIN) dev --data-dir $(DATA_DIR) --addr $(ADDR)

test: deps services ## Install what the tests need, then run every test (Go, then browser e2e)
	$(TEST_ENV) $(GO) test $(GO_TEST_FLAGS) ./...
	$(TEST_ENV) $(MAKE) e2e
	$(TEST_ENV) bash scripts/check-shared-db.sh

test-go: ## Run only the Go tests (assumes `make services` has run)
	$(TEST_ENV) $(GO) test $(GO_TEST_FLAGS) ./...

deps: ## Download Go modules and the C toolchain `go test -race` needs
	bash scripts/deps.sh

services: ## Make local PostgreSQL and Redis answer (installs them as root) and ffmpeg
	$(TEST_ENV) bash scripts/services.sh

e2e: build ## Run the browser end-to-end suite in tests/e2e against bin/marquee
	MARQUEE_BIN=$(abspath $(BIN)) bash scripts/e2e.sh

bench: ## Benchmark the foundation, the media pipeline and playback (vs nginx); updates bench/RESULTS.md
	bash scripts/bench.sh

lint: tools ## gofmt, go vet, staticcheck, govulncheck
	TOOLS_BIN=$(TOOLS_BIN) bash scripts/lint.sh

tools: ## Install the pinned lint tools into ./.tools/bin
	TOOLS_BIN=$(TOOLS_BIN) bash scripts/tools.sh

migrate: build ## Apply migrations: DATABASE_URL if set, else the dev database in DATA_DIR
	@if [ -n "$${DATABASE_URL:-}" ]; then \
		echo "./$(BIN) migrate up  (DATABASE_URL)"; ./$(BIN) migrate up; \
	else \
		echo "./$(BIN) migrate --data-dir $(DATA_DIR) up"; ./$(BIN) migrate --data-dir $(DATA_DIR) up; \
	fi

clean: ## Remove build and benchmark output (keeps .marquee data and .tools)
	rm -rf bin bench/out
