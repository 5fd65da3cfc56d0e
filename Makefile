# The two set-up commands of the README. Each installs what is missing (Debian packages),
# configures and builds; `run` opens the GUI on the bundled demo model, `test` runs ctest.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test package package-test results clean

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

clean:
	rm -rf $(BUILD)
