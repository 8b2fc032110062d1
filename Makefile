# Tern: the two commands of the README, and the rest.
#   make run    install what is missing, build, start ternd in the foreground
#   make check  install what is missing, build with ASan+UBSan, run every test
#   make build  release build only;  make fuzz  run each fuzzer (FUZZ_SECONDS)
#   make clean  remove build output (./var, the data of make run, stays)

BUILD_RELEASE := build/release
BUILD_CHECK   := build/check
BUILD_FUZZ    := build/fuzz
CMAKE_FLAGS   := -G Ninja -DCMAKE_C_COMPILER=clang
FUZZ_SECONDS  ?= 60
PYTEST        := /usr/bin/python3 -m pytest

.PHONY: run check build build-check deps deps-check fuzz clean bench

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

build: deps
	@cmake -S . -B $(BUILD_RELEASE) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@ninja -C $(BUILD_RELEASE)

run: build
	$(BUILD_RELEASE)/src/ternd/ternd -F --demo

build-check: deps-check
	@cmake -S . -B $(BUILD_CHECK) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug \
		-DTERN_SANITIZE=ON -DTERN_FUZZ_REPLAY=ON >/dev/null
	@ninja -C $(BUILD_CHECK)

check: build-check
	@scripts/check.sh $(BUILD_CHECK)

fuzz: deps-check
	@cmake -S . -B $(BUILD_FUZZ) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTERN_FUZZ=ON >/dev/null
	@ninja -C $(BUILD_FUZZ)
	@scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

clean:
	rm -rf build

# Side-by-side benchmark against Debian's Dovecot (see bench/README.md).
bench: build
	@bench/run.sh $(or $(BENCH_MODE),quick)
