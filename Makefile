# Quick start: `make demo` and `make test` work on a fresh machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench conformance lint mutation clean browser ui-screenshots

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all,test]'
	touch $(STAMP)

# The classic TF1 examples, then the platform: a training job, a model service, a prediction.
demo: $(STAMP)
	$(PY) -m miniflow.cli.main demo
	$(PY) examples/platform_demo.py

test: $(STAMP) browser
	$(PY) -m pytest -q

# Headless Chromium for the web UI's browser tests (tests/platform/test_ui_browser.py):
# Debian's chromium + chromium-driver, installed when missing and we are root; otherwise
# (or if apt-get fails) those tests fail and say how to install it.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "browser: chromium and chromedriver found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "browser: installing chromium chromium-driver with apt-get"; \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			chromium chromium-driver) || echo "browser: apt-get failed; the browser tests will fail"; \
	else \
		echo "browser: chromium/chromedriver missing and not root: the browser tests will" \
			"fail; install them with: sudo apt-get install chromium chromium-driver"; \
	fi

# Screenshots of the UI's main pages into docs/ui/ (from the browser tests).
ui-screenshots: $(STAMP) browser
	MINIFLOW_UI_SCREENSHOTS=docs/ui $(PY) -m pytest -q -p no:cacheprovider tests/platform/test_ui_browser.py

# ruff (pinned in the `test` extra): the rule set in pyproject.toml, then the formatting.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench:
	$(MAKE) -C benchmarks bench PYTHON=$(PYTHON)

# Mutation testing (tools/mutation.py): one-token mutants of selected core, ml, serving and
# platform modules against their tests; prints the score per module, writes
# tools/mutation_report.json. Options: make mutation ONLY=metrics,codec
mutation: $(STAMP)
	$(PY) tools/mutation.py -j 2 $(if $(ONLY),--only $(ONLY))

# Every registered op against TensorFlow's tf.compat.v1 graph mode (conformance/README.md),
# in the benchmark environment (built by the same stamp rule as `make bench`).
# Options: make conformance K=softmax REPORT=conformance.json
# Then TensorFlow reads back the files miniflow writes (TFRecord, Example, SequenceExample,
# SavedModels in TF's layout, TF-format checkpoints).
conformance:
	$(MAKE) -C benchmarks .venv-bench/.installed PYTHON=$(PYTHON)
	benchmarks/.venv-bench/bin/python -m conformance.run $(if $(K),-k $(K)) \
		$(if $(REPORT),--report $(REPORT))
	benchmarks/.venv-bench/bin/python tests/io/fixtures/tf_reads_miniflow.py
	benchmarks/.venv-bench/bin/python tests/tf_files/fixtures/tf_reads_miniflow_saved_models.py
	benchmarks/.venv-bench/bin/python tests/tf_files/fixtures/tf_reads_miniflow_graphs.py

clean:
	rm -rf $(VENV) benchmarks/.venv-bench build *.egg-info src/*.egg-info
