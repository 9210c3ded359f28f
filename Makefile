# micromatter: the two set-up commands are `make run` and `make test`; everything else is for developers.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-interop run test test-cpython test-mp test-mpy test-host test-interop bench build clean

setup: $(VENV)/.ok

$(VENV)/.ok: requirements.txt pyproject.toml tools/setup.sh
	tools/setup.sh venv
	touch $@

setup-interop: setup
	tools/setup.sh interop

# The main job: a Matter light under the unix MicroPython port, printing its pairing code; as root in a
# network namespace made for it (tools/run-device.sh), otherwise on loopback only.
run: setup
	tools/run-device.sh

# The whole suite: unit tests on CPython, on MicroPython from source and from .mpy, host-only tests, interop.
test: setup setup-interop
	tools/test.sh all

test-cpython test-mp test-mpy test-host: setup
	tools/test.sh $(@:test-%=%)

test-interop: setup-interop
	tools/test.sh interop

bench: setup
	$(BIN)/python tools/bench.py

build: setup
	$(BIN)/python tools/build x64 xtensawin rv32imc

clean:
	rm -rf build var
