# SPDX-License-Identifier: MIT
# The two commands of the README:
#   make run   set up, build, and train the default network on Fashion-MNIST
#   make test  set up, build (normal and ASan+UBSan), and run every test via ctest
# Everything real lives in CMake; this file only sequences the steps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FMNIST     ?= /usr/share/datasets/fashion-mnist

.PHONY: all setup build build-asan run test test-fast install clean

all: build

setup:
	@sh scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFASTMLP_SANITIZE=ON

build-asan: setup $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	$(BUILD)/fastmlp train \
	  --train $(FMNIST)/train-images-idx3-ubyte.gz --train-labels $(FMNIST)/train-labels-idx1-ubyte.gz \
	  --test $(FMNIST)/t10k-images-idx3-ubyte.gz --test-labels $(FMNIST)/t10k-labels-idx1-ubyte.gz \
	  -o $(BUILD)/fashion.mlp

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
