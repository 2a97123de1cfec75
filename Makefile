# Local orchestration. Every target is a thin call to a script or binary, so the GitHub
# workflows and `make` run the same code. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIG ?= configs/build-config.yaml
CARGO ?= cargo
BIN := $(or $(CARGO_TARGET_DIR),target)/debug
# Architectures for base-debian, platforms and local: ARCHS="amd64 arm64" builds the foreign
# one under emulation (qemu-user-static; setup enables it). Default: this machine's.
ARCHS ?=

.PHONY: help setup test gate workflows act binaries plan check base-debian base-alpine base-redhat platforms local bench bench-base bench-build bench-scan bench-push bench-multiarch bench-site site clean-local dr-drill

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

setup: ## Install what the tests and the local pipeline need (apt packages, engine, linters)
	scripts/setup.sh

test: ## Run the tests: setup, then the whole gate (the README's test command)
	scripts/test.sh

gate: ## Run the gate only (fmt, clippy, tests, hadolint, shellcheck, zizmor, schemas)
	scripts/gate.sh

workflows: binaries ## Run the workflow scenarios under act (tests/workflows)
	tests/workflows/run.sh

act: binaries ## Run one workflow locally with act: make act WORKFLOW=nightly.yml [EVENT=schedule]
	scripts/act.sh $(WORKFLOW) $(EVENT)

binaries: ## Build the golden binaries (debug)
	$(CARGO) build --workspace --bins

plan: binaries ## Print the nightly plan (every image) for the shipped config
	$(BIN)/golden-plan --config $(CONFIG) --event schedule --format text

check: binaries ## Validate the config and the repository against it
	$(BIN)/golden-plan --config $(CONFIG) --check

base-debian: binaries ## Build the hardened Debian base from the Debian archive (ARCHS="amd64 arm64" for both)
	@if [ -n "$(ARCHS)" ]; then GOLDEN_ARCHS="$(ARCHS)" scripts/setup.sh; fi
	@set -e; for a in $(or $(ARCHS),$(shell dpkg --print-architecture)); do GOLDEN_ARCH=$$a scripts/build-base.sh debian; done

base-alpine: binaries ## Build the hardened Alpine base (needs its upstream image: GitHub runners)
	scripts/build-base.sh alpine

base-redhat: binaries ## Build the hardened UBI base (needs its upstream image: GitHub runners)
	scripts/build-base.sh redhat

platforms: binaries ## Build every platform image buildable here on the hardened Debian base (ARCHS too)
	@set -e; for a in $(or $(ARCHS),$(shell dpkg --print-architecture)); do GOLDEN_ARCH=$$a scripts/build-platforms.sh; done

local: ## The whole chain locally: plan, build, scan, push to 127.0.0.1:5000, report (ARCHS="amd64 arm64": indexes)
	GOLDEN_ARCHS="$(ARCHS)" scripts/local.sh

site: binaries ## The image catalog site of reports/ (make local writes it too) into reports/site/
	$(BIN)/golden-report site --input reports --plan reports/plan.json --output reports/site

bench: bench-base bench-build bench-scan bench-push bench-multiarch bench-site ## Run every benchmark (prints ratios against peers)

bench-base: binaries ## Benchmark: base size and bootstrap time
	scripts/bench-base.sh

bench-build: binaries ## Benchmark: golden-build vs docker build; PR rebuild of nginx with vs without --cache-from (BENCH_SCENARIOS=peer|cache)
	scripts/bench-build.sh

bench-scan: binaries ## Benchmark: golden-scan vs syft
	scripts/bench-scan.sh

bench-push: binaries ## Benchmark: golden-push vs docker push and skopeo
	scripts/bench-push.sh

bench-multiarch: binaries ## Benchmark: arm64 under emulation vs native amd64 (base, build, scan)
	scripts/bench-multiarch.sh

bench-site: ## Benchmark: the catalog site for 60 images (size vs 5 MB, each page's load time in headless chromium)
	scripts/bench-site.sh

dr-drill: ## Disaster-recovery drill: promote, replicate, wipe the primary, fail over, restore (docs/disaster-recovery.md)
	scripts/dr-drill.sh

clean-local: ## Stop the local registry and remove reports/
	scripts/local.sh --clean
