# SPDX-License-Identifier: MIT
# The two commands of the README:
#   make run   set up, build, and train the default network on Fashion-MNIST
#   make test  set up, build (normal and ASan+UBSan), and run every test: ctest,
#              the Python package's pytest suite, the fuzzers
# Everything real lives in CMake; this file only sequences the steps.
# Its builds are the project's own (CI runs make test): warnings are errors.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
ARM_BUILD  ?= build-arm64
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FMNIST     ?= /usr/share/datasets/fashion-mnist

.PHONY: all setup build build-asan build-fuzz build-arm64 fuzz run test test-fast test-python test-arm64 install clean

all: build

setup:
	@sh scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFASTMLP_WERROR=ON

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# -O2 (RelWithDebInfo) under the sanitizers: at -O0 the fused vector kernels
# (src/kernels/narrow.inc) made the seed 000/001 tests 4x slower than the whole
# rest of the suite; the sanitizers instrument optimised code as well.
$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTMLP_SANITIZE=ON -DFASTMLP_WERROR=ON

build-asan: setup $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFASTMLP_FUZZ=ON -DFASTMLP_WERROR=ON

build-fuzz: setup $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_csv fuzz_idx fuzz_npy fuzz_model fuzz_checkpoint

# Each fuzzer runs FUZZ_SECONDS on a scratch copy of its corpus, JOBS of
# them at a time (each is one process on one core); a crash is saved under
# $(FUZZ_BUILD)/crashes/ (copy it into tests/fuzz/corpus_*/ once fixed, so
# ctest replays it forever) and fails the run.
FUZZ_TARGETS = csv idx npy model checkpoint
fuzz: build-fuzz
	@$(MAKE) --no-print-directory -j $(JOBS) $(addprefix fuzz-run-,$(FUZZ_TARGETS))
	@echo "fuzz: $(words $(FUZZ_TARGETS)) passed, 0 failed"

fuzz-run-%:
	@rm -rf $(FUZZ_BUILD)/work_$*; mkdir -p $(FUZZ_BUILD)/work_$* $(FUZZ_BUILD)/crashes
	@cp tests/fuzz/corpus_$*/* $(FUZZ_BUILD)/work_$*/
	@echo "fuzz_$*: $(FUZZ_SECONDS) s"
	@ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BUILD)/tests/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	  -max_len=65536 -timeout=10 -print_final_stats=0 -artifact_prefix=$(FUZZ_BUILD)/crashes/$*- \
	  $(FUZZ_BUILD)/work_$* >$(FUZZ_BUILD)/fuzz_$*.log 2>&1 || { tail -40 $(FUZZ_BUILD)/fuzz_$*.log; exit 1; }
	@echo "fuzz_$*: $$(grep -E '^Done [0-9]+ runs' $(FUZZ_BUILD)/fuzz_$*.log | tail -1)"

run: build
	$(BUILD)/fastmlp train \
	  --train $(FMNIST)/train-images-idx3-ubyte.gz --train-labels $(FMNIST)/train-labels-idx1-ubyte.gz \
	  --test $(FMNIST)/t10k-images-idx3-ubyte.gz --test-labels $(FMNIST)/t10k-labels-idx1-ubyte.gz \
	  --layers 256,128 --epochs 5 --batch 64 -o $(BUILD)/fashion.mlp

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@# the GPU tests' one line where there is no GPU (ctest keeps a skipped test's output in its log)
	@grep -h -m1 'SKIPPED: no CUDA device' $(BUILD)/Testing/Temporary/LastTest.log || true
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-python
	$(MAKE) test-arm64
	$(MAKE) fuzz

# The Python package (python/): built by pip into a virtual environment per
# Python (Debian's, and the newest the machine has), and its pytest suite run
# there (scripts/python-test.sh).
test-python: build
	sh scripts/python-test.sh $(BUILD)

# The aarch64 build (issue 19), cross-compiled with Debian's
# gcc-aarch64-linux-gnu against the arm64 multiarch libraries
# (cmake/aarch64-linux-gnu.cmake; HDF5 off, see there), and its C tests and
# CLI smoke test run under qemu-aarch64 on two emulated CPUs: max (dotprod,
# i8mm, bf16: every NEON kernel) runs them all; cortex-a53 (Armv8.0: none of
# them, so the other side of every feature test) runs the tests whose code
# depends on those features (the kernel table, the quantised kernels, the
# CLI smoke test) and the kernel checks beside them: the rest run the same
# code on both models.  On an aarch64 host the native build above is
# already this.
ARM_FEATURE_TESTS = test_ktable|test_quant|test_kernels|test_cross_cli|test_fpe|test_hand|test_gradcheck
$(ARM_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ARM_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
	  -DFASTMLP_WERROR=ON -DFASTMLP_HDF5=OFF -DFASTMLP_CUDA=OFF -DFASTMLP_MPI=OFF

build-arm64: setup
	@if [ "$$(uname -m)" = x86_64 ]; then $(MAKE) $(ARM_BUILD)/CMakeCache.txt && cmake --build $(ARM_BUILD) -j $(JOBS); \
	 else echo "build-arm64: not on x86-64 ($$(uname -m)): the native build is the one to test"; fi

test-arm64: build-arm64
	@set -e; if [ "$$(uname -m)" = x86_64 ]; then \
	  echo "aarch64 tests under qemu-aarch64 -cpu max"; \
	  (cd $(ARM_BUILD) && QEMU_CPU=max ctest --output-on-failure -j $(JOBS)); \
	  echo "aarch64 tests under qemu-aarch64 -cpu cortex-a53 (the feature-dependent ones)"; \
	  (cd $(ARM_BUILD) && QEMU_CPU=cortex-a53 ctest --output-on-failure -j $(JOBS) -R '^($(ARM_FEATURE_TESTS))$$'); \
	fi

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(ARM_BUILD)
