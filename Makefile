# Continuum developer tasks. `make check` is what a reviewer runs before merging.
# The test command here is the README's and .ci/run's: keep the three in step.

GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
VERSION     ?=
LDFLAGS     := $(if $(VERSION),-X github.com/continuum-ehr/continuum/internal/app.version=$(VERSION))

.PHONY: build test test-postgres race lint fuzz generate check

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o continuum ./cmd/continuum

# Every test, in random order.
test:
	$(GO) test -timeout 30m -shuffle=on ./...

# The store conformance suite and the packages over the store (jobs,
# interaction, rest) on PostgreSQL too, on a throwaway cluster (.ci/postgres;
# installs Debian's postgresql when missing and run as root).
test-postgres:
	bash -c 'source .ci/postgres && $(GO) test -shuffle=on ./internal/store/... ./internal/jobs/... ./internal/interaction/... ./internal/rest/... ./internal/authweb/...'

# The race detector costs several times the test time on a small machine; run
# it before merging concurrency changes.
race:
	$(GO) test -race -shuffle=on ./...

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Runs every Fuzz target of the module for FUZZTIME each (go test -fuzz takes
# one target of one package at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# Regenerates committed generated code (internal/fhir/spec/r4.json). Needs npm to
# fetch hl7.fhir.r4.examples@4.0.1, or CONTINUUM_R4_EXAMPLES naming a local copy.
generate:
	$(GO) generate ./...

check: generate
	git diff --exit-code
	$(MAKE) lint
	$(MAKE) test
