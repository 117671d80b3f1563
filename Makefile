# tally's front door. Every target first runs scripts/install-deps, so a fresh
# Debian 12 machine needs nothing but `make demo` or `make test`.
#
#   make            build/release/tally
#   make test       every test once: the slow real-stack scenarios (label "scenario":
#                   test/integration/*.sh and a few CLI runs) in the release build, every
#                   other test (unit, protocol, CLI, integration gtests) under ASan+UBSan;
#                   then check-deploy
#   make check-deploy  lint and validate deploy/ (Dockerfile, Terraform, compose, dashboard)
#                   with tools installed under build/tools by scripts/install-deploy-tools
#   make check-image  build the container image with podman and run it (many minutes; not in test)
#   make bench      micro-benchmarks and the end-to-end file -> csv benchmark
#   make bench-compare  tally, the seed's PySpark job and a Flink SQL job on the same data
#                   (installs PySpark and PyFlink under build/compare; not part of test)
#   make demo       generate a sample stream, run the job, show the daily counts
#   make dashboard-snapshot  docs/img/dashboard.png: the Grafana dashboard's panels drawn from a
#                   real run's Prometheus series (Grafana itself cannot be installed here)
#   make debug      build/debug, unoptimised with assertions

CMAKE_FLAGS ?=
# `make release TARGETS=tally` builds only the binary (the container image's build stage).
TARGETS ?=
BUILD = cmake -S . -G Ninja $(CMAKE_FLAGS)

.PHONY: all release debug sanitize test test-release test-sanitize check-deploy check-image bench bench-compare demo dashboard-snapshot deps clean

all: release

deps:
	@scripts/install-deps

release: deps
	@$(BUILD) -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build/release $(addprefix --target ,$(TARGETS))

debug: deps
	@$(BUILD) -B build/debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build/debug

sanitize: deps
	@$(BUILD) -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON >/dev/null
	@cmake --build build/sanitize

test-release: release
	@ctest --test-dir build/release --output-on-failure --label-regex scenario

test-sanitize: sanitize
	@ctest --test-dir build/sanitize --output-on-failure --label-exclude scenario

test: test-release test-sanitize check-deploy

check-deploy: deps
	@scripts/install-deploy-tools
	@scripts/check-deploy

check-image: release
	@deploy/test-image build/release/tally

bench: release
	@scripts/bench

bench-compare: release
	@scripts/bench-compare

demo: release
	@scripts/demo

dashboard-snapshot: release
	@scripts/dashboard-snapshot

clean:
	rm -rf build
