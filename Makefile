# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LIGHT_STAMP := $(VENV)/.installed-light
DEMO_VIDEO ?= ../shared/data/videos/taiji.mp4

.PHONY: install install-light browser demo test bench clean

install: $(STAMP)
install-light: $(LIGHT_STAMP)

# The light set (requirements-light.txt: MediaPipe, the numpy lifter, video I/O; about 1.2 GB) is all the demo
# needs; `make install` / `make test` add torch with its CUDA libraries, the other detectors and the test tools
# (about 7 GB in all). Say so in one line rather than let pip fail half-way.
DISK_CHECK = import shutil, sys; free = shutil.disk_usage('.').free / 1e9; \
	free < $(1) and sys.exit(f'make: installing into $(VENV) needs about $(1) GB free on this disk, {free:.1f} GB is free')

$(LIGHT_STAMP): requirements-light.txt setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -c "$(call DISK_CHECK,2)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-light.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(LIGHT_STAMP)

$(STAMP): $(LIGHT_STAMP) requirements.txt
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -c "$(call DISK_CHECK,7)"
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

demo: $(LIGHT_STAMP)
	$(VENV)/bin/vp3d-infer $(DEMO_VIDEO) --out out/demo.mp4 --json out/demo.json --npz out/demo.npz
	@echo "Demo results: out/demo.mp4 (side-by-side video), out/demo.json and out/demo.npz (per-frame joints)"

# The viewer's tests drive a real headless Chromium (Debian's package; Playwright uses /usr/bin/chromium);
# `vp3d live --show`'s test opens its window on a virtual X server (Debian's xvfb; xwininfo from x11-utils).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "make: could not install Debian's chromium (the viewer's browser tests skip without it, and fail under CI=true)"
	@{ command -v Xvfb && command -v xwininfo; } >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb x11-utils >/dev/null; } \
		|| echo "make: could not install Debian's xvfb and x11-utils (the vp3d live --show test skips without them, and fails under CI=true)"

test: install browser
	$(PY) -m pytest -q tests

bench: install
	$(PY) bench/bench_infer.py

clean:
	rm -rf out build *.egg-info
