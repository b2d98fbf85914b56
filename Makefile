# Cordon's two front doors:
#   make demo   install what is missing, build, start the lab and the server, print the URL and a token
#   make test   install what is missing, build, start the lab, run every test under ctest
# and the checks CI runs after `make test`:
#   make sanitize   every test but the drills and the browser under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make tsan       the engine, store and API tests under ThreadSanitizer (build-tsan/)
#   make fuzz       every libFuzzer harness of fuzz/ for FUZZ_SECONDS from its seed corpus (build-fuzz/)
# `make deps` also installs Stoplight Prism into tools/prism: `make test` uses it to check
# exchanges with Okta against Okta's own API description (specs/okta, `ctest -L conformance`).
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

FUZZ_SECONDS ?= 30
# Threads meet in these: the engine's workers, governor and lease keeper, the
# store's connections, the API server's pool, the inventory's syncs. The lab's tests stay out: they
# wait on a real DC and add nothing here.
TSAN_TESTS := engine_test engine_unit_test sqlite_store_test api_test authz_matrix_test connector_api_test \
              http_seam_test inventory_unit_test identities_api_test graph_api_test

.PHONY: all deps build test demo bench sanitize tsan fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@bench/run.sh $(BUILD)

sanitize: deps
	@# UBSan findings fail the run instead of only printing.
	@# The lab's folder is the one `make test` uses: the DC is provisioned once for both.
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCORDON_SANITIZE=ON \
	  -DCORDON_LAB_DIR=$(abspath $(BUILD))/lab
	cmake --build build-asan -j $(JOBS)
	@# The drills are left to `make test`: they wait out the clock, not the code — fixed
	@# one-minute outages of the DC (BulkDisableRidesOut), a wrong password for 40 s, an
	@# action's time budget, Okta's rate-limit windows and faults, Graph's throttle. The pause,
	@# probe, resume and pacing they drive run here under the sanitizers in engine_test, the
	@# Governor suite, http_seam_test, connector_entra_test and the other RetryTest,
	@# OktaE2eTest and EntraE2eTest cases. The console's browser scenarios are left to `make
	@# test` too: the server paths they take run here in console_api_test and identities_api_test.
	cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j $(JOBS) --timeout 900 \
	  -E '^RetryTest\.(BulkDisableRidesOut|AWrongPasswordPauses|TheTimeBudgetEnds)|^AuthModes/OktaDrillTest\.|^AuthModes/EntraE2eTest\.(BulkRevoke|TokensThatExpire)|^ConsoleE2eTest\.'

tsan: deps
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORDON_TSAN=ON
	cmake --build build-tsan -j $(JOBS) --target $(TSAN_TESTS)
	@# Only the targets above are built: skip the placeholders ctest keeps for the others, the lab,
	@# and the Prism conformance tests (plain ctest tests, so they have no placeholder).
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -E '_NOT_BUILT$$|^lab\.|^okta_(prism|conformance)_test$$'

fuzz: deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DCORDON_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target fuzzers
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(JOBS)

clean:
	rm -rf $(BUILD)
