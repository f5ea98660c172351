# gluster: a Docker volume plugin for GlusterFS replica volumes.

GO       ?= go
BIN      := bin
GOFILES  := $(shell find . -name '*.go' -not -path './rootfs/*') go.mod go.sum
E2E_TIMEOUT ?= 60m
FUZZTIME ?= 10s

PLUGIN   ?= gluster
# The servers and token `make plugin` points the plugin at: the demo's.
# TOKEN_FILE=PATH instead gives a host file holding the token, which
# `docker plugin inspect` then does not show (see build/plugin.sh).
SERVERS  ?= 172.30.70.11,172.30.70.12
TOKEN    ?= $(shell cat /var/lib/gluster-demo/token 2>/dev/null)
TOKEN_FILE ?=

.PHONY: all build server-image rootfs server-image-trixie rootfs-trixie plugin unit fuzz setup e2e bench bench-quick test demo demo-clean

all: build

build: $(BIN)/gluster-server $(BIN)/gluster-plugin

$(BIN)/gluster-server: $(GOFILES)
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./server

$(BIN)/gluster-plugin: $(GOFILES)
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./plugin

## rootfs: the managed plugin's root filesystem, built offline
rootfs: $(BIN)/gluster-plugin
	build/plugin-rootfs.sh $(BIN)/gluster-plugin rootfs

## plugin: create and enable the managed plugin $(PLUGIN) from config.json and rootfs/
plugin: rootfs
	@build/plugin.sh $(PLUGIN) $(SERVERS) "$(if $(TOKEN_FILE),file:$(TOKEN_FILE),$(TOKEN))"

## server-image: the gluster server container image, built offline
server-image: $(BIN)/gluster-server
	build/server-image.sh $(BIN)/gluster-server gluster-server:latest

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

## e2e: end-to-end tests against real dockerd and real gluster
e2e: setup
	$(GO) test -tags e2e -count=1 -p 1 -timeout $(E2E_TIMEOUT) ./tests/e2e/... ./mounter/...

## bench: the plugin's cost against the raw gluster client, 5 runs (about
## 20 minutes); prints the table, writes it with JSON and a chart to results/
bench: setup
	$(GO) test -tags bench -count=1 -timeout 60m -run TestBench -v ./tests/bench/

## bench-quick: the bench once with small sizes, so that it keeps working
bench-quick: setup
	BENCH_QUICK=1 $(GO) test -tags bench -count=1 -timeout 15m -run TestBench ./tests/bench/

## test: everything (the command CI runs)
test: unit e2e bench-quick

## demo: two local server containers, the plugin and a replica 2 volume
demo: setup
	demo/up.sh

## demo-clean: remove what the demo made, and only that
demo-clean:
	demo/down.sh
