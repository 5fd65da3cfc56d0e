# The two set-up commands of the README. Each installs what is missing (Debian packages),
# configures and builds; `run` opens the GUI on the bundled demo model, `test` runs ctest.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test package package-test results clean fuzz asan-test
FUZZ_SECONDS ?= 30

all: build

deps:
	@bash tools/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake --preset default -B $(BUILD)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/app/ptq-studio

test: build
	cd $(BUILD) && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j $(JOBS)

# The Debian package: builds, then runs CPack in $(BUILD)/ and prints the .deb's path.
package: build
	cd $(BUILD) && cpack -G DEB
	@ls -t $(BUILD)/ptq-studio_*.deb | head -n 1

# Installs the .deb with apt-get, runs the installed programs, removes it again (root).
package-test: build
	bash tests/packaging/install_test.sh $(BUILD)

# Regenerates docs/RESULTS.md's measured sections (long: tens of minutes on 2 cores).
results: build
	@for script in tools/results/*.py; do \
	  case $$script in */common.py) continue;; esac; \
	  /usr/bin/python3 $$script || exit 1; \
	done

# libFuzzer targets (clang-14, ASan + UBSan) in build-fuzz, each run FUZZ_SECONDS on its seeds.
fuzz: deps
	@bash tools/install-fuzz-deps.sh
	cmake --preset fuzz
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	bash tools/run-fuzz.sh $(FUZZ_SECONDS)

# The whole test suite built with ASan + UBSan (gcc) in build-asan. LibTorch and Qt are not
# instrumented: tools/asan.supp and tools/lsan.supp say what is suppressed and why.
asan-test: deps
	cmake --preset asan
	cmake --build build-asan -j $(JOBS)
	cd build-asan && QT_QPA_PLATFORM=offscreen \
	  ASAN_OPTIONS=detect_container_overflow=0:detect_leaks=1:suppressions=$(CURDIR)/tools/asan.supp \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tools/ubsan.supp \
	  ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
