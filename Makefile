# Morsel. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# The services' exports, evaluated only when .ci/services succeeded.
SERVICES := env="$$(.ci/services)" && eval "$$env"
HTTP_ADDR ?= :8080

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: demo
demo: build ## Start Postgres and ClickHouse, migrate, load the demo data and serve on :8080
	@$(SERVICES) && ./bin/morsel migrate && ./bin/morsel demo && OPERATOR_ORG="$${OPERATOR_ORG:-demo}" exec ./bin/morsel serve --addr $(HTTP_ADDR)

.PHONY: test
test: verify ## Start Postgres, ClickHouse and a two-shard ClickHouse cluster (and get Chromium), then run every test with the race detector
	@env="$$(WITH_BROWSER=1 WITH_CLUSTER=1 .ci/services)" && eval "$$env" \
	  && echo "test: services ready at $$(date -u +%T); go test -race ./..." \
	  && go test -race -count=1 -timeout 12m ./... \
	  && if [ -n "$${CLICKHOUSE_CLUSTER_URL:-}" ]; then $(CLUSTER_TESTS); \
	     else echo "test: WARNING: the ClickHouse cluster did not start, so its tests skipped and the tracking and dashboard tests did not run on two shards" >&2; fi

# The tracking, report and dashboard tests again, each test's database on the
# two-shard cluster (MORSEL_TEST_CLICKHOUSE=cluster): the same figures must come
# out of Distributed tables over ReplicatedReplacingMergeTree shards, and a lost
# cluster database rebuilds from Postgres.
CLUSTER_TESTS := echo "test: the tracking and dashboard tests on the two-shard cluster at $$(date -u +%T)" \
	  && MORSEL_TEST_CLICKHOUSE=cluster go test -count=1 -timeout 12m ./tracking/... \
	  && MORSEL_TEST_CLICKHOUSE=cluster go test -count=1 -timeout 12m \
	       -run 'Dashboard|Report|Video|Question|Overview|Breakdown|Search|Rep|Tag|Note|CSV' ./web/ \
	  && MORSEL_TEST_CLICKHOUSE=cluster go test -count=1 -timeout 12m -run 'TestRebuildAnalytics' ./cmd/morsel/

.PHONY: test-cluster
test-cluster: ## Start a two-shard ClickHouse cluster with ZooKeeper (.ci/cluster) and run the cluster migration tests, then the tracking, report and dashboard tests on it
	@env="$$(.ci/services)" && eval "$$env" && cenv="$$(.ci/cluster)" && eval "$$cenv" \
	  && echo "test-cluster: cluster ready at $$(date -u +%T)" \
	  && go test -race -count=1 -timeout 20m -run Cluster ./migrations/ \
	  && $(CLUSTER_TESTS)

.PHONY: build
build: ## Build bin/morsel
	go build -o bin/morsel ./cmd/morsel

.PHONY: generate
generate: ## Regenerate the templ code
	go tool templ generate -include-version=false

# htmx for the dashboard, from npm at a pinned version, committed under
# web/static/vendor and served from the binary (web/static.go checks its hash).
HTMX_VERSION := 2.0.11

.PHONY: htmx
htmx: ## Fetch htmx $(HTMX_VERSION) from npm into web/static/vendor
	@tmp="$$(mktemp -d)" && cd "$$tmp" && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null \
	  && tar xzf htmx.org-$(HTMX_VERSION).tgz && cp package/dist/htmx.min.js $(CURDIR)/web/static/vendor/htmx.min.js \
	  && cp package/LICENSE $(CURDIR)/web/static/vendor/htmx.LICENSE && rm -rf "$$tmp" \
	  && sha256sum $(CURDIR)/web/static/vendor/htmx.min.js

.PHONY: verify
verify: ## Check formatting, go vet, that go.mod and go.sum are tidy, and that the generated templ code is current
	@.ci/verify

.PHONY: services
services: ## Install (if needed) and start Postgres and ClickHouse; print their URLs
	@.ci/services

.PHONY: bench
bench: build ## Run the benchmarks (Go benchmarks, then morsel bench)
	@$(SERVICES) && go test -run '^$$' -bench . -benchtime 1x ./... && ./bin/morsel bench import
