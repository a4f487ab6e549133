# Asfcast: `make run` serves Media/ with the default config; `make test` runs every test.
# Both install what they need on a fresh Debian 12 machine (as root, or with sudo).

SWIFT ?= swift
BUILD_FLAGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD_PACKAGES := pkg-config libavformat-dev libavcodec-dev libavutil-dev libsystemd-dev
TEST_PACKAGES := $(BUILD_PACKAGES) ffmpeg vlc-bin vlc-plugin-base gstreamer1.0-tools \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav python3

.PHONY: build release run test bench deps deps-test media clean

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

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(BUILD_FLAGS)

run: release
	.build/release/asfcast serve --config config/asfcast.yaml

test: deps-test
	$(SWIFT) build $(BUILD_FLAGS)
	$(SWIFT) test $(BUILD_FLAGS)

# The load-test ramp per protocol and against VLC's MMSH broadcast; writes BENCHMARKS.md.
bench: deps-test release
	Benchmarks/bench.sh

# Regenerates the sample content (needs ffmpeg).
media: deps-test build
	Media/make-media.sh .build/debug/asfcast

clean:
	rm -rf .build
