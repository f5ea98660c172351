# gluster: a Docker volume plugin for GlusterFS replica volumes.

GO       ?= go
# Recipes use bash's pipefail.
SHELL    := /bin/bash
# ARCH: the Debian architecture the binaries, the plugin's rootfs and the
# server image are built for: amd64 (the default), arm64 (Raspberry Pi OS
# 64-bit) or armhf (Raspberry Pi OS 32-bit, ARMv7). Another than amd64 gets
# its own binary directory, rootfs directory and image tags (see build/arch.sh),
# so that the amd64 ones stay as they are.
ARCH     ?= amd64
ifeq ($(ARCH),amd64)
GOENV    := GOARCH=amd64
SUFFIX   :=
else ifeq ($(ARCH),arm64)
GOENV    := GOARCH=arm64
SUFFIX   := -arm64
else ifeq ($(ARCH),armhf)
GOENV    := GOARCH=arm GOARM=7
SUFFIX   := -armhf
else
$(error ARCH=$(ARCH): use amd64, arm64 or armhf)
endif
BIN      := bin$(if $(SUFFIX),/$(ARCH))
ROOTFS   := rootfs$(SUFFIX)
GOFILES  := $(shell find . -name '*.go' -not -path './rootfs*/*') go.mod go.sum
E2E_TIMEOUT ?= 60m
E2E_LOG  ?= results/e2e.log
FUZZTIME ?= 10s

PLUGIN   ?= gluster
# The servers and token file `make plugin` points the plugin at: the demo's.
# The plugin reads the token from the file, so that `docker plugin inspect`
# does not show it (see build/plugin.sh); TOKEN=VALUE puts it in the
# plugin's settings instead.
SERVERS  ?= 172.30.70.11,172.30.70.12
TOKEN    ?=
TOKEN_FILE ?= $(if $(TOKEN),,/var/lib/gluster-demo/secrets/token)
# More `docker plugin set` settings for `make plugin`, such as
# CA_FINGERPRINT=sha256:... for servers with TLS.
PLUGIN_SETTINGS ?=
# Where `make push-plugins` pushes the plugin, one tag per architecture
# (REGISTRY/PLUGIN:VERSION-ARCH), and the architectures it builds.
REGISTRY ?= 127.0.0.1:5000
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PLUGIN_ARCHES ?= amd64 arm64 armhf

.PHONY: all build server-image rootfs server-image-trixie rootfs-trixie plugin push-plugin push-plugins unit fuzz setup e2e faults test-arm bench bench-quick test demo demo-clean

all: build

build: $(BIN)/gluster-server $(BIN)/gluster-plugin

$(BIN)/gluster-server: $(GOFILES)
	CGO_ENABLED=0 $(GOENV) $(GO) build -trimpath -o $@ ./server

$(BIN)/gluster-plugin: $(GOFILES)
	CGO_ENABLED=0 $(GOENV) $(GO) build -trimpath -o $@ ./plugin

## rootfs: the managed plugin's root filesystem for ARCH, built offline:
## rootfs/ for amd64, rootfs-ARCH/ for the others
rootfs: $(BIN)/gluster-plugin
	ARCH=$(ARCH) build/plugin-rootfs.sh $(BIN)/gluster-plugin $(ROOTFS)

## plugin: create and enable the managed plugin $(PLUGIN) from config.json
## and the rootfs of ARCH (another than the machine's runs through binfmt)
plugin: rootfs
	@ROOTFS=$(ROOTFS) build/plugin.sh $(PLUGIN) $(SERVERS) "$(if $(TOKEN),$(TOKEN),file:$(TOKEN_FILE))" "" $(PLUGIN_SETTINGS)

## push-plugin: build the plugin for ARCH and push it as
## REGISTRY/PLUGIN:VERSION-ARCH. Docker's managed plugins have no
## multi-architecture tags: users install their architecture's.
push-plugin: rootfs
	build/plugin-push.sh $(REGISTRY)/$(PLUGIN):$(VERSION)-$(ARCH) $(ROOTFS)

## push-plugins: push-plugin for each of PLUGIN_ARCHES
push-plugins:
	@for arch in $(PLUGIN_ARCHES); do \
	  $(MAKE) --no-print-directory push-plugin ARCH=$$arch REGISTRY=$(REGISTRY) PLUGIN=$(PLUGIN) VERSION=$(VERSION) || exit 1; \
	done

## server-image: the gluster server container image for ARCH, built offline:
## gluster-server:latest for amd64, gluster-server:latest-ARCH for the others
server-image: $(BIN)/gluster-server
	ARCH=$(ARCH) build/server-image.sh $(BIN)/gluster-server gluster-server:latest$(SUFFIX)

## server-image-trixie, rootfs-trixie: the same on Debian 13, with GlusterFS 11
server-image-trixie: $(BIN)/gluster-server
	DEBIAN_SUITE=trixie build/server-image.sh $(BIN)/gluster-server gluster-server:latest-trixie

rootfs-trixie: $(BIN)/gluster-plugin
	DEBIAN_SUITE=trixie build/plugin-rootfs.sh $(BIN)/gluster-plugin rootfs-trixie

## unit: fast tests, no root, no Docker; with the race detector, since the
## driver answers Docker's calls concurrently
unit:
	$(GO) test -race ./...

## fuzz: run each fuzz target for FUZZTIME (go test takes one target at a time)
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzFromDocker$$' -fuzztime=$(FUZZTIME) ./names
	$(GO) test -run='^$$' -fuzz='^FuzzParseOptions$$' -fuzztime=$(FUZZTIME) ./driver
	$(GO) test -run='^$$' -fuzz='^FuzzCreateRequest$$' -fuzztime=$(FUZZTIME) ./control
	$(GO) test -run='^$$' -fuzz='^FuzzAPI$$' -fuzztime=$(FUZZTIME) ./control

## setup: install and start what the end-to-end tests need
setup:
	tests/setup.sh

## e2e: end-to-end tests against real dockerd and real gluster; the log is
## kept in E2E_LOG, and what failed is repeated at its end
e2e: setup
	@mkdir -p $(dir $(E2E_LOG))
	set -o pipefail; $(GO) test -tags e2e -count=1 -p 1 -timeout $(E2E_TIMEOUT) ./tests/e2e/... ./mounter/... 2>&1 | tee $(E2E_LOG) || \
	  { tests/failed.sh $(E2E_LOG); exit 1; }

## faults: the randomized fault test (stops, kills, restarts, partitions and
## freezes of one server at a time, under writers and readers that check
## every read) for FAULT_TIME; make test runs it for 2 minutes. FAULT_SEED
## replays the schedule a run logged.
FAULT_TIME ?= 15m
faults: setup
	FAULT_TIME=$(FAULT_TIME) $(GO) test -tags e2e -count=1 -timeout 2h -run '^TestRandomFaults$$' -v ./tests/e2e/

## test-arm: the arm64 end-to-end test on this machine, under emulation
## (qemu-user-static through binfmt_misc): builds the arm64 server image and
## plugin rootfs, then an arm64 and an amd64 server form a pool and the arm64
## plugin, installed from its registry tag, serves a replica 2 volume. The
## two arm64 debootstraps run side by side: each spends most of its ~9
## minutes (first run) in emulated package scripts, one core each.
test-arm: setup
	$(MAKE) --no-print-directory -j2 server-image rootfs ARCH=arm64
	$(GO) test -tags e2e -count=1 -timeout 30m -v ./tests/arm/...

## bench: the plugin's cost against the raw gluster client, 5 runs (about
## 20 minutes), then item 10 alone: many started volumes, at 10, 100 and 500
## (about 15 minutes more: 10 and 100 took 19 s pooled, 4.5 minutes
## dedicated, most of it mounting and deleting 100 volumes; BENCH_MANY=10,100
## for a shorter pass); prints the table, writes it with JSON and a chart to
## results/
bench: setup
	$(GO) test -tags bench -count=1 -timeout 90m -run TestBench -v ./tests/bench/

## bench-quick: the bench once with small sizes, so that it keeps working
bench-quick: setup
	BENCH_QUICK=1 $(GO) test -tags bench -count=1 -timeout 15m -run TestBench ./tests/bench/

## test: everything (the command CI runs); test-arm is also its own target
test: unit e2e test-arm bench-quick

## demo: two local server containers, the plugin and a replica 2 volume
demo: setup
	demo/up.sh

## demo-clean: remove what the demo made, and only that
demo-clean:
	demo/down.sh
