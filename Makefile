# Ladewerk — thin driver over CMake.
#   make           release build (-O2, -Werror): build/ladewerk
#   make debug     ASan+UBSan debug build in build-asan/
#   make test      debug build, then the whole suite (ctest), summary "N passed, M failed"
#   make format    clang-format every C file;  make format-check  fails on a difference
#   make codegen   regenerate lib/codec/gen from ../shared/ocpp-schemas
JOBS ?= $(shell nproc)
SCHEMAS ?= ../shared/ocpp-schemas

.PHONY: all release debug test format format-check codegen codegen-check clean
all: release

release:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -g" >/dev/null
	@cmake --build build -j $(JOBS)

debug:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLW_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

test:
	@scripts/test

C_FILES = $(shell git ls-files '*.c' '*.h' | grep -v '^lib/codec/gen/')
format:
	@clang-format -i $(C_FILES)
format-check:
	@clang-format --dry-run --Werror $(C_FILES)

codegen:
	@python3 tools/codegen/codegen.py --schemas $(SCHEMAS) --out lib/codec/gen
codegen-check:
	@scripts/codegen-check $(SCHEMAS)

clean:
	rm -rf build build-asan
