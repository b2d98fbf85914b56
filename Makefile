# Cordon's two front doors:
#   make demo   install what is missing, build, start the lab and the server, print the URL and a token
#   make test   install what is missing, build, start the lab, run every test under ctest
# and the checks CI runs before `make test`:
#   make fuzz       every libFuzzer harness of fuzz/ for FUZZ_SECONDS from its seed corpus (build-asan/)
#   make sanitize   the tests that run in one process (no lab) under AddressSanitizer + UndefinedBehaviorSanitizer,
#                   in the fuzzers' build (build-asan/: clang, every library with ASan + UBSan)
#   make tsan       the engine, store and API tests under ThreadSanitizer (build-tsan/)
# `make deps` also installs Stoplight Prism into tools/prism: `make test` uses it to check
# exchanges with Okta against Okta's own API description (specs/okta, `ctest -L conformance`).
BUILD ?= build
JOBS  ?= $(shell nproc)
# Optimised, with line tables (-g1) for backtraces: full debug information would
# double what the compiler writes.
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

FUZZ_SECONDS ?= 20
# The product's tests that need neither the lab nor the cordon binary: the units,
# the stores, the engine, the connectors against scripted servers, the API in
# process. The lab's end-to-end tests and its emulators' run in `make test`.
SANITIZE_TESTS := core_test subprocess_test config_test authz_test tokens_test engine_unit_test engine_test \
                  cordon_risk_engine_test sqlite_store_test inventory_unit_test connector_api_test connector_http_test \
                  connector_ad_test connector_okta_test connector_entra_test http_seam_test api_unit_test api_test \
                  authz_matrix_test risk_hybrid_api_test identities_api_test console_api_test graph_api_test
# Threads meet in these: the engine's workers, governor and lease keeper, the
# store's connections, the API server's pool, the inventory's syncs. The lab's tests stay out: they
# wait on a real DC and add nothing here.
TSAN_TESTS := engine_test engine_unit_test sqlite_store_test api_test connector_api_test \
              http_seam_test inventory_unit_test identities_api_test

.PHONY: all deps build test demo bench sanitize tsan fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# One test more than the cores: the lab's drills mostly wait (an outage, a rate
# limit's window), and the other tests use the cores meanwhile.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(shell echo $$(($(JOBS) + 1))) --timeout 900

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) -j $(JOBS) --target benches
	@bench/run.sh $(BUILD)

# One clang build for the fuzzers and the sanitized tests: CORDON_FUZZ builds every
# library with ASan + UBSan (and the fuzzers' coverage), so the tests link the same objects.
ASAN_BUILD := build-asan
$(ASAN_BUILD)/build.ninja:
	@# -O1 and line tables only, as OSS-Fuzz builds: quick to build, fast enough to fuzz, and
	@# every sanitizer report still names its lines.
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ -DCORDON_FUZZ=ON

sanitize: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(SANITIZE_TESTS)
	@# UBSan findings fail the run instead of only printing. Only the targets above are built:
	@# skip the placeholders ctest keeps for the others, the lab, and the Prism tests (plain
	@# ctest tests, so they have no placeholder).
	cd $(ASAN_BUILD) && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -E '_NOT_BUILT$$|^lab\.|^okta_(prism|conformance)_test$$'

tsan: deps
	@# -O1 and line tables only (-g1): enough for ThreadSanitizer's reports, quicker to build.
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCORDON_TSAN=ON
	cmake --build build-tsan -j $(JOBS) --target $(TSAN_TESTS)
	@# Only the targets above are built: skip the placeholders ctest keeps for the others, the lab,
	@# and the Prism conformance tests (plain ctest tests, so they have no placeholder).
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -E '_NOT_BUILT$$|^lab\.|^okta_(prism|conformance)_test$$'

fuzz: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzzers
	@scripts/fuzz.sh $(ASAN_BUILD) $(FUZZ_SECONDS) $(JOBS)

clean:
	rm -rf $(BUILD)
