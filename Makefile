# Set-up is part of every target: a fresh machine needs only `make demo` or `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup host qemu qemus linux-guest sshd libvirt browser prometheus test lint demo bench screenshots clean

$(STAMP): pyproject.toml | host
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: $(STAMP)

# Debian packages installed when missing and we may (root with apt-get); a minimal Debian root
# has none of these. $(1): the packages; $(2): extra apt-get options.
define apt_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	  | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing" $$missing; apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing >/dev/null; \
	  else echo "missing:" $$missing "(apt-get install them; what needs them will fail or skip)"; fi; \
	fi
endef

# What the set-up itself needs of the host: a venv, headers to build libvirt-python, OpenSSH's
# client (ssh:// endpoints), ps/pgrep and ss (who holds a monitor).
HOST_DEBS := python3-venv python3-dev gcc pkg-config openssh-client procps iproute2
host:
	$(call apt_missing,$(HOST_DEBS),--no-install-recommends)

# The system's QEMU (Debian 12: 7.2, Debian 13: 10.0), for the lab, the demo and the first pass.
qemu:
	$(call apt_missing,qemu-system-x86 qemu-utils,)

# The test matrix: each QEMU unpacked with its whole closure into .cache/qemu-VERSION and run
# through its own loader (scripts/qemu_root.py), so each runs on Debian 12 and 13 alike. The
# system's own version is tested as installed and not unpacked.
QEMUS := 7.2 10.0 11.1
SYSTEM_QEMU = $$(qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p')
qemus: $(STAMP) qemu
	@system=$(SYSTEM_QEMU); for v in $(QEMUS); do [ "$$v" = "$$system" ] && continue; \
	  $(PY) scripts/qemu_root.py $$v >/dev/null || echo "QEMU $$v could not be unpacked"; done

# The lab's Linux guest (a Debian cloud kernel, busybox, stress-ng), built once into the cache.
linux-guest: $(STAMP)
	@$(PY) -m qmigtui lab --guest linux --prepare >/dev/null || echo "the Linux guest could not be built"

# OpenSSH's server unpacked with its closure into .cache/openssh for the ssh:// tests (not
# installed, not started); run as root it needs its privilege-separation user.
sshd: $(STAMP) host
	@$(PY) scripts/sshd_root.py >/dev/null || echo "sshd could not be unpacked"
	@if [ "$$(id -u)" = 0 ] && ! id sshd >/dev/null 2>&1; then \
	  useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd; fi

# libvirt for the --connect tests: the host's own daemon and QEMU driver (never started as a
# service: the tests run private daemons, tests/libvirtd.py), libvirt-dev to build
# libvirt-python into the venv, netcat for qemu+ssh:// to a daemon's own socket, and the
# libvirt-qemu user and group its QEMU driver wants.
LIBVIRT_DEBS := libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev netcat-openbsd
libvirt: $(STAMP) host
	$(call apt_missing,$(LIBVIRT_DEBS),--no-install-recommends)
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
	$(call apt_missing,chromium,)

# Prometheus and promtool for the exporter's tests (the server is started by the tests on
# loopback, never as a service).
prometheus:
	$(call apt_missing,prometheus,--no-install-recommends)

# The whole suite on the system's QEMU, then every QEMU-driven test again on each other QEMU of
# the matrix but those marked once (our own exit paths, libvirt's own checks: nothing of the
# QEMU's version in them). In CI a QEMU of the matrix that does not run here fails the run.
test: $(STAMP) host qemu qemus linux-guest sshd libvirt browser prometheus lint
	@echo "== the whole suite, on the system's $$(qemu-system-x86_64 --version 2>/dev/null | head -1 || echo 'no system QEMU')"
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=10
	@system=$(SYSTEM_QEMU); for v in $(QEMUS); do [ "$$v" = "$$system" ] && continue; \
	  q=$(CURDIR)/.cache/qemu-$$v/qemu-system-x86_64; \
	  if $$q --version >/dev/null 2>&1; then \
	    echo "== the QEMU-driven tests again, on QEMU $$v: $$($$q --version | head -1)"; \
	    QMIGTUI_QEMU=$$q $(VENV)/bin/pytest -q -p no:cacheprovider --durations=10 -m "qemu and not once" || exit 1; \
	  elif [ "$$CI" = true ]; then echo "QEMU $$v does not run here (make qemus): CI must test it"; exit 1; \
	  else echo "== QEMU $$v does not run here: its pass is left out"; fi; \
	done

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
