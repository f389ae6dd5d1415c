# bootfarm: `make demo` boots the simulated lab; `make test` runs every test.
SWIFT ?= swift
BOOTFARM := .build/debug/bootfarm

.PHONY: all deps kit build test demo bench clean

all: build

deps:
	scripts/install-deps

kit: deps
	scripts/kit

build: deps
	$(SWIFT) build

test: deps kit
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

demo: deps kit build
	scripts/demo

bench:
	scripts/install-deps --with-bench
	bench/console
	bench/results
	bench/power
	bench/agent

clean:
	rm -rf .build demo
