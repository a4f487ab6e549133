# Asfcast: `make run` serves Media/ with the default config; `make test` runs every test.
# Both install what they need on a fresh Debian 12 machine (as root, or with sudo).

SWIFT ?= swift
BUILD_FLAGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD_PACKAGES := pkg-config libavformat-dev libavcodec-dev libavutil-dev libsystemd-dev
TEST_PACKAGES := $(BUILD_PACKAGES) ffmpeg vlc-bin vlc-plugin-base gstreamer1.0-tools \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav python3 python3-venv python3-mutagen python3-prometheus-client \
	curl chromium
# What the tests take from PyPI, which Debian does not package: lars, a reader of W3C extended
# log files (IIS's and WMS's), in a virtual environment of its own.
PYTHON_TOOLS := lars==1.0
PYTHON_ENV := .build-python

.PHONY: build release run test bench soak header-limits fuzz fuzz-build deps deps-test media clean

# Installs the Debian packages in $(1) that are missing.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_PACKAGES))

deps-test:
	$(call apt_install,$(TEST_PACKAGES))
	@$(PYTHON_ENV)/bin/python -c "import lars" 2>/dev/null || \
		{ python3 -m venv $(PYTHON_ENV) && $(PYTHON_ENV)/bin/pip install -q $(PYTHON_TOOLS); }

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(BUILD_FLAGS)

run: release
	.build/release/asfcast serve --config config/asfcast.yaml

test: deps-test
	$(SWIFT) build $(BUILD_FLAGS)
	$(SWIFT) test $(BUILD_FLAGS)
	.build/debug/asfcast-fuzz replay Fuzz/Regressions
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

# Fuzzing: every parser's libFuzzer target (Sources/AsfcastFuzz), built with the fuzzer and
# AddressSanitizer in .build-fuzz, seeded from Media/ and the clients' requests, then run for
# FUZZ_SECONDS each. A crash stops the run and leaves its input in Fuzz/Crashes/<target>/:
# move it to Fuzz/Regressions/<target>/ with the fix, where `make test` replays it.
FUZZ_SECONDS ?= 120
TEST_FUZZ_SECONDS ?= 10
FUZZ_TARGETS = asf-header asf-packet http-request wmsp-frames rtsp-message rtcp mms-message mms-udp \
	entry-metadata wsx config digest wmlog push-body asf-stream nsc msb-datagram msb-stream msbd-message

fuzz-build: deps
	$(SWIFT) build -c release --scratch-path .build-fuzz --product asfcast-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	$(SWIFT) build --product asfcast-fuzz

fuzz: fuzz-build
	rm -rf .build-fuzz/seeds && .build/debug/asfcast-fuzz seed Media .build-fuzz/seeds
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$t .build-fuzz/seeds/$$t Fuzz/Regressions/$$t Fuzz/Crashes/$$t; \
		ASFCAST_FUZZ=$$t ASAN_OPTIONS=detect_leaks=0 .build-fuzz/release/asfcast-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
			-artifact_prefix=Fuzz/Crashes/$$t/ .build-fuzz/corpus/$$t .build-fuzz/seeds/$$t Fuzz/Regressions/$$t \
			> .build-fuzz/$$t.log 2>&1; status=$$?; \
		echo "fuzz $$t: $$(grep -h 'stat::number_of_executed_units' .build-fuzz/$$t.log | awk '{print $$2}') inputs in $(FUZZ_SECONDS) s"; \
		[ $$status = 0 ] || { tail -40 .build-fuzz/$$t.log; echo "fuzz $$t: crashed, input in Fuzz/Crashes/$$t/"; exit 1; }; \
		rmdir Fuzz/Crashes/$$t 2>/dev/null || true; \
	done

# The load-test ramp per protocol and against VLC's MMSH broadcast; writes BENCHMARKS.md.
bench: deps-test release
	Benchmarks/bench.sh

# An hour at 5,000 mixed sessions with faults injected; writes RELIABILITY.md (outside CI).
soak: deps-test release
	Benchmarks/soak.sh

# How large a header each client takes over each protocol, measured; writes HEADERS-measured.md.
header-limits: deps-test release
	Benchmarks/header-limits.sh

# Regenerates the sample content (needs ffmpeg).
media: deps-test build
	Media/make-media.sh .build/debug/asfcast

clean:
	rm -rf .build
