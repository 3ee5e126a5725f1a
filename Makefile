# The two commands of the README, and the rest of the developer loop.
#   make run    installs what is missing, builds (release), starts `tollgate serve`
#   make test   installs what is missing, builds, runs every test tier through ctest
.PHONY: all deps build release run test test-unit fuzz-build clang asan bench fuzz format tidy clean

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 300

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target tollgate

run: release
	./build/release/apps/tollgate/tollgate serve $(ARGS)

# The fuzz build compiles only the fuzz targets (and the libraries they use) with clang.
FUZZ_TARGETS = $$(ninja -C build/fuzz -t targets all | sed -n 's/^\(fuzz_[a-z0-9_]*\): .*/\1/p' | sort -u)

fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target $(FUZZ_TARGETS)

test: build fuzz-build
	ctest --preset dev
	ctest --preset fuzz

test-unit: build
	ctest --preset dev -L unit

clang: deps
	@cmake --preset clang >/dev/null
	@cmake --build --preset clang -j $(JOBS)

asan: deps
	@cmake --preset asan-ubsan >/dev/null
	@cmake --build --preset asan-ubsan -j $(JOBS)
	ctest --preset asan-ubsan

bench: release
	@cmake --build --preset release -j $(JOBS)
	scripts/run-bench

fuzz: fuzz-build
	@for f in build/fuzz/tests/fuzz/fuzz_*; do \
	  [ -x "$$f" ] || continue; n=$$(basename $$f); \
	  scripts/run-fuzz $$f tests/fuzz/corpus/$${n#fuzz_} build/fuzz/work/$$n $(FUZZ_SECONDS) || exit 1; \
	done

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

tidy: build
	@git ls-files 'libs/*.cpp' 'apps/*.cpp' | xargs clang-tidy -p build/dev --quiet

clean:
	rm -rf build
