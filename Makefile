# ecs-key-preflight: the two promises of the README.
#   make demo   build, start the local AWS emulator, seed a small estate, run `check`
#   make test   formatting, clippy, unit, snapshot and end-to-end tests
#
# The emulator is moto in server mode, installed into .venv from PyPI.

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
PIDFILE := .moto.pid
PORTFILE := .moto.port
BIN     := target/debug/ecs-key-preflight

# Fake credentials for the emulator only.
EMU_ENV = AWS_ACCESS_KEY_ID=EXAMPLEACCESSKEYID AWS_SECRET_ACCESS_KEY=EXAMPLESECRETACCESSKEY \
          AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
          AWS_SHARED_CREDENTIALS_FILE=/dev/null

.PHONY: all build test lint unit fuzz demo venv emulator-start emulator-stop bench clean

all: build

build:
	$(CARGO) build

venv: $(VENV)/.installed

$(VENV)/.installed: tests/emulator/requirements.txt
	@echo "==> creating $(VENV) with the local AWS emulator (moto, pinned in tests/emulator/requirements.txt)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	@touch $@

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	@# Only collect/ talks to AWS: no other module may name an SDK crate,
	@# the SDK configuration, credentials or the smithy runtime.
	@if grep -rnE 'aws_sdk_|aws_config|aws_credential_types|aws_smithy_' src --include='*.rs' | grep -v '^src/collect/'; then \
	    echo "error: only src/collect/ may use the AWS SDK crates (aws_sdk_*, aws_config, aws_credential_types, aws_smithy_*)" >&2; exit 1; fi

# Each integration-test binary starts its own emulator (tests/emulator/serve.py)
# and stops it when it exits, so no server is left behind.
unit: venv
	$(CARGO) test --all-targets

test: lint unit

# The property tests over every parser of outside input and the policy
# evaluator, with many more cases than `make test` runs.
fuzz:
	PROPTEST_CASES=5000 $(CARGO) test --release --test fuzz_parsers
	PROPTEST_CASES=5000 $(CARGO) test --release --lib policy::cases

# Start the emulator (moto in server mode, plus the ECS behaviour added by
# tests/emulator/ecs_pinning.py) on a free loopback port, wait until it
# answers (serve.py warms it up first), and record its PID and port.
emulator-start: venv
	@if [ -f $(PIDFILE) ] && kill -0 $$(cat $(PIDFILE)) 2>/dev/null; then \
	    echo "==> emulator already running on port $$(cat $(PORTFILE))"; exit 0; fi; \
	port=$$($(VPY) -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); \
	echo "==> starting the moto server on 127.0.0.1:$$port"; \
	$(VPY) tests/emulator/serve.py --port $$port --forever >.moto.log 2>&1 & echo $$! >$(PIDFILE); \
	echo $$port >$(PORTFILE); \
	for i in $$(seq 1 150); do \
	    if grep -q '^READY' .moto.log 2>/dev/null; then echo "==> emulator ready"; exit 0; fi; \
	    if ! kill -0 $$(cat $(PIDFILE)) 2>/dev/null; then break; fi; \
	    sleep 0.2; \
	done; \
	echo "emulator did not answer; see .moto.log" >&2; kill $$(cat $(PIDFILE)) 2>/dev/null; rm -f $(PIDFILE) $(PORTFILE); exit 1

emulator-stop:
	@if [ -f $(PIDFILE) ]; then kill $$(cat $(PIDFILE)) 2>/dev/null || true; echo "==> emulator stopped"; fi
	@rm -f $(PIDFILE) $(PORTFILE)

# The failing clusters are on purpose: the demo succeeds when `check` exits 1
# (at least one cluster will fail), and fails on any other outcome.
demo: venv
	@echo "==> building ecs-key-preflight (the first build compiles the AWS SDK: several minutes)"
	$(CARGO) build
	@$(MAKE) --no-print-directory emulator-start
	@set -e; trap '$(MAKE) --no-print-directory emulator-stop' EXIT; \
	endpoint=http://127.0.0.1:$$(cat $(PORTFILE)); \
	echo "==> seeding the emulator: a healthy cluster, a disabled key, a key pending deletion, a deleted key, a key policy that shuts Fargate out, no key, a service still on an old disabled key"; \
	$(VPY) tests/emulator/seed_demo.py $$endpoint; \
	echo "==> ecs-key-preflight check --region us-east-1"; echo; \
	rc=0; env $(EMU_ENV) AWS_ENDPOINT_URL=$$endpoint $(BIN) check --region us-east-1 || rc=$$?; \
	echo; \
	if [ $$rc -ne 1 ]; then echo "==> demo did not run as intended: exit $$rc (expected 1)" >&2; exit 1; fi; \
	echo "==> ecs-key-preflight what-if --disable-key alias/prod-api-storage   (nothing is changed in AWS)"; echo; \
	rc=0; env $(EMU_ENV) AWS_ENDPOINT_URL=$$endpoint $(BIN) what-if --disable-key alias/prod-api-storage || rc=$$?; \
	echo; \
	if [ $$rc -eq 1 ]; then echo "==> demo ran as intended: exit 1, the failing clusters are on purpose, and disabling prod-api's key would break two more"; \
	else echo "==> demo did not run as intended: what-if exit $$rc (expected 1)" >&2; exit 1; fi

bench: venv
	$(CARGO) build --release
	@$(MAKE) --no-print-directory emulator-start
	@set -e; trap '$(MAKE) --no-print-directory emulator-stop' EXIT; \
	env $(EMU_ENV) $(VPY) tests/emulator/bench.py http://127.0.0.1:$$(cat $(PORTFILE)) target/release/ecs-key-preflight

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(PIDFILE) $(PORTFILE) .moto.log
