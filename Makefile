# gluster: a Docker volume plugin for GlusterFS replica volumes.

GO       ?= go
BIN      := bin
GOFILES  := $(shell find . -name '*.go' -not -path './rootfs/*') go.mod go.sum
E2E_TIMEOUT ?= 40m

.PHONY: all build server-image unit setup e2e test

all: build

build: $(BIN)/gluster-server

$(BIN)/gluster-server: $(GOFILES)
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./server

## server-image: the gluster server container image, built offline
server-image: $(BIN)/gluster-server
	build/server-image.sh $(BIN)/gluster-server gluster-server:latest

## unit: fast tests, no root, no Docker
unit:
	$(GO) test ./...

## setup: install and start what the end-to-end tests need
setup:
	tests/setup.sh

## e2e: end-to-end tests against real dockerd and real gluster
e2e: setup
	$(GO) test -tags e2e -count=1 -p 1 -timeout $(E2E_TIMEOUT) ./tests/e2e/... ./mounter/...

## test: everything (the command CI runs)
test: unit e2e
