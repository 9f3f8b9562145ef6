# `make test` on a fresh clone: builds .venv with the pinned stack (once), then
# runs the whole suite. `make install` does only the set-up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY      = $(VENV)/bin/python
REQS    = requirements/torch.txt requirements/runtime.txt requirements/tests.txt \
          requirements/build.txt requirements/mmpose.txt requirements/mmpose-deps.txt
STAMP   = $(VENV)/.mmhierseg-installed
PYTEST_ARGS ?=

.PHONY: install test clean-venv

install: $(STAMP)

$(STAMP): $(REQS) setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23" "setuptools<81" wheel
	# torch first and alone: the CPU-compatible pair verified in INSTALL notes
	$(PY) -m pip install -q -r requirements/torch.txt
	$(PY) -m pip install -q -r requirements/runtime.txt -r requirements/tests.txt
	# optional mmpose backend (tested by the suite); see requirements/mmpose.txt
	$(PY) -m pip install -q -r requirements/build.txt -r requirements/mmpose-deps.txt
	$(PY) -m pip install -q --no-build-isolation --no-binary xtcocotools xtcocotools
	$(PY) -m pip install -q --no-deps -r requirements/mmpose.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -c "import mmhierseg, mmseg.models; print('mmhierseg', mmhierseg.__version__, 'installed')"
	@touch $(STAMP)

test: install
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
