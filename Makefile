# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_VIDEO ?= ../shared/data/videos/taiji.mp4

.PHONY: install browser demo test bench clean

install: $(STAMP)

# A fresh install takes ~7 GB (the CUDA builds of torch): say so in one line rather than let pip fail half-way.
NEED_GB := 8
DISK_CHECK := import shutil, sys; free = shutil.disk_usage('.').free / 1e9; \
	free < $(NEED_GB) and sys.exit(f'make: installing into $(VENV) needs about $(NEED_GB) GB free on this disk, {free:.1f} GB is free')

$(STAMP): requirements.txt setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -c "$(DISK_CHECK)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: install
	$(VENV)/bin/vp3d-infer $(DEMO_VIDEO) --out out/demo.mp4 --json out/demo.json --npz out/demo.npz
	@echo "Demo results: out/demo.mp4 (side-by-side video), out/demo.json and out/demo.npz (per-frame joints)"

# The viewer's tests drive a real headless Chromium (Debian's package; Playwright uses /usr/bin/chromium).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "make: could not install Debian's chromium (the viewer's browser tests skip without it, and fail under CI=true)"

test: install browser
	$(PY) -m pytest -q tests

bench: install
	$(PY) bench/bench_infer.py

clean:
	rm -rf out build *.egg-info
