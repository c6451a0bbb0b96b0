# Set-up is part of every target: a fresh machine needs only `make demo` or `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= python3

QEMU10 := .cache/qemu-10.0/usr/bin/qemu-system-x86_64

.PHONY: setup qemu qemu10 linux-guest sshd libvirt browser test lint demo bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: $(STAMP)

# QEMU from Debian's packages when it is missing and we may install it.
qemu:
	@if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! command -v qemu-img >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 qemu-utils; \
	  else echo "qemu-system-x86_64 is missing: install qemu-system-x86 (tests that need it will fail or skip)"; fi; \
	fi

# QEMU 10.0 (bookworm-backports) unpacked beside the system's 7.2, for the second test pass.
qemu10: qemu
	@if [ ! -x $(QEMU10) ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then \
	  scripts/qemu10.sh >/dev/null || echo "QEMU 10.0 could not be fetched"; fi

# The lab's Linux guest (a Debian cloud kernel, busybox, stress-ng), built once into the cache.
linux-guest: $(STAMP)
	@$(PY) -m qmigtui lab --guest linux --prepare >/dev/null || echo "the Linux guest could not be built"

# OpenSSH's server unpacked into .cache/openssh for the ssh:// tests (not installed, not
# started); run as root it needs its privilege-separation user.
sshd:
	@if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then \
	  scripts/sshd.sh >/dev/null || echo "sshd could not be fetched"; fi
	@if [ "$$(id -u)" = 0 ] && ! id sshd >/dev/null 2>&1; then \
	  useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd; fi

# libvirt for the --connect tests: Debian's daemon and QEMU driver (never started as a
# service: the tests run private daemons, tests/libvirtd.py), libvirt-dev to build
# libvirt-python into the venv, netcat for qemu+ssh:// to a daemon's own socket, and the
# libvirt-qemu user and group its QEMU driver wants.
LIBVIRT_DEBS := libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config gcc \
  netcat-openbsd
libvirt: $(STAMP)
	@if ! command -v libvirtd >/dev/null 2>&1 || ! command -v virsh >/dev/null 2>&1 \
	    || ! command -v nc >/dev/null 2>&1 || ! pkg-config --exists libvirt 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $(LIBVIRT_DEBS); \
	  else echo "libvirt is missing: apt-get install $(LIBVIRT_DEBS) (its tests will fail or skip)"; fi; \
	fi
	@if [ "$$(id -u)" = 0 ]; then \
	  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu; \
	  id libvirt-qemu >/dev/null 2>&1 || useradd --system --no-create-home -g libvirt-qemu \
	    --shell /usr/sbin/nologin libvirt-qemu; fi
	@$(PY) -c "import libvirt" 2>/dev/null || ! pkg-config --exists libvirt 2>/dev/null \
	  || $(PY) -m pip install -q -e '.[test,libvirt]'

lint: $(STAMP)
	$(VENV)/bin/ruff check qmigtui tests scripts bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy qmigtui

browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

# The whole suite on the system's QEMU (Debian 12: 7.2), then every QEMU-driven test again on
# QEMU 10.0 but those marked once (our own exit paths, libvirt's own checks: nothing of the
# QEMU's version in them); in CI a missing QEMU 10.0 fails the run.
test: $(STAMP) qemu qemu10 linux-guest sshd libvirt browser lint
	@echo "== the whole suite, on $$(qemu-system-x86_64 --version 2>/dev/null | head -1 || echo 'no system QEMU')"
	$(VENV)/bin/pytest -q -p no:cacheprovider
	@if [ -x $(QEMU10) ]; then \
	  echo "== the QEMU-driven tests again, on $$($(QEMU10) --version | head -1)"; \
	  QMIGTUI_QEMU=$(CURDIR)/$(QEMU10) $(VENV)/bin/pytest -q -p no:cacheprovider -m "qemu and not once"; \
	elif [ "$$CI" = true ]; then echo "QEMU 10.0 is missing (make qemu10): CI must test it"; exit 1; \
	else echo "== QEMU 10.0 not available here: its pass is left out"; fi

demo: $(STAMP)
	@$(MAKE) --no-print-directory qemu || true
	@if command -v qemu-system-x86_64 >/dev/null; then $(VENV)/bin/qmigtui lab --scenario postcopy; \
	else echo "QEMU cannot run here: replaying a recorded lab migration instead (examples/postcopy-recover.jsonl.gz)"; \
	$(VENV)/bin/qmigtui replay examples/postcopy-recover.jsonl.gz; fi

bench: $(STAMP) qemu
	@for b in bench/[!_]*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(PY) $$b || exit 1; done

screenshots: $(STAMP) qemu
	rm -f screenshots/*.svg screenshots/*.png
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
