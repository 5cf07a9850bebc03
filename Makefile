# genrich: the two commands are `make reproduce` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.genrich-installed
SCALE ?= quick
CHAPTER ?= all
# Debian packages that ship the data sets the chapters read (see README.md, "Data"), and the C++ compiler and ninja
# that build the fused CPU kernel of genrich.fast_unet on first use (without them it falls back to PyTorch).
APT_PACKAGES := wordnet-base wordnet-sense-index dataset-fashion-mnist openclipart-svg fonts-noto-color-emoji g++ ninja-build
# The VADER ground-truth sentences (MIT) ship only in the sdist of vaderSentiment 3.3.2.
CACHE_DIR := $(or $(GENRICH_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/genrich)
VADER_DIR := $(CACHE_DIR)/hutto_ICWSM_2014
# Jane Austen's novels (MIT; public-domain texts) from Debian's r-cran-janeaustenr, unpacked without its R dependency.
AUSTEN_RDB := $(CACHE_DIR)/debian/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb

.PHONY: help venv data data-apt data-vader data-austen reproduce test test-fast check-sync nbtest pytest lab bench docs clean

help:
	@echo "make reproduce  # set up, then genrich reproduce --scale $(SCALE) (figures/, results/, results/REPORT.md)"
	@echo "make test       # set up, check nbdev sync, nbdev_test, pytest"
	@echo "make lab | bench | docs | clean"

# The pinned set lives in settings.ini; re-installs only when it (or setup.py) changes.
$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

data: data-apt data-vader data-austen

data-austen:
	@if [ -f /usr/lib/R/site-library/janeaustenr/data/Rdata.rdb ] || [ -f $(AUSTEN_RDB) ]; then exit 0; fi; \
	mkdir -p $(CACHE_DIR)/debian; tmp=$$(mktemp -d); \
	(cd $$tmp && (apt-get download r-cran-janeaustenr >/dev/null 2>&1 || ([ "$$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && apt-get download r-cran-janeaustenr >/dev/null 2>&1)) && dpkg -x r-cran-janeaustenr_*.deb $(CACHE_DIR)/debian && echo "Jane Austen novels unpacked under $(CACHE_DIR)/debian") \
	  || echo "NOTE: could not fetch r-cran-janeaustenr; the Jane Austen corpus will be skipped"; rm -rf $$tmp

data-vader: $(VADER_DIR)/tweets_GroundTruth.txt

$(VADER_DIR)/tweets_GroundTruth.txt:
	@mkdir -p $(CACHE_DIR); tmp=$$(mktemp -d); \
	$(PYTHON) -m pip download -q --disable-pip-version-check --no-binary :all: --no-deps vaderSentiment==3.3.2 -d $$tmp 2>/dev/null && \
	tar xzf $$tmp/vaderSentiment-3.3.2.tar.gz -C $$tmp && \
	tar xzf $$tmp/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz -C $(CACHE_DIR) && \
	echo "VADER sentences unpacked into $(VADER_DIR)" || echo "NOTE: could not fetch vaderSentiment==3.3.2 (offline?); the text benchmark will be skipped"; \
	rm -rf $$tmp

data-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  (apt-get install -y -qq $$missing >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq $$missing)) ; \
	else echo "NOTE: some system packages are missing; install them with: sudo apt-get install$$missing"; fi

reproduce: venv data
	$(BIN)/genrich reproduce --chapter $(CHAPTER) --scale $(SCALE)

# Fails when the notebooks and the exported package (or the cleaned notebooks) are out of step.
check-sync: venv
	@before=$$(git status --porcelain --untracked-files=no; git diff | md5sum); \
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean; \
	after=$$(git status --porcelain --untracked-files=no; git diff | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "ERROR: nbdev_export/nbdev_clean changed tracked files:"; git status --short; exit 1; fi; \
	echo "nbdev sync: OK"

nbtest: venv data
	$(BIN)/nbdev_test --n_workers 2 --timing

pytest: venv data
	$(BIN)/python -m pytest -q tests

test: check-sync nbtest pytest

lab: venv data
	$(BIN)/jupyter lab --notebook-dir=nbs

bench: venv data
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

docs: venv
	@mkdir -p _docs
	$(BIN)/jupyter nbconvert --to html --output-dir _docs nbs/*.ipynb

clean:
	rm -rf _docs _proc .pytest_cache
