# Set-up is implicit: every target installs what it is missing, from the lock files.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export PIPENV_IGNORE_VIRTUALENVS := 1
export PIPENV_VERBOSITY := -1
# jsii prints a banner about Node 20's end of life on every run; the value is Node's major version.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CHECKPOINT_DISABLE := 1
# The bytecode of our own modules and pytest's rewritten tests, kept outside the tree (.tools/ is not committed):
# a run no longer compiles them again (about a sixth of `make test-fast`). PYTHONDONTWRITEBYTECODE set by a machine
# would prevent it.
export PYTHONPYCACHEPREFIX := $(CURDIR)/.tools/pycache
export PYTHONDONTWRITEBYTECODE :=
# One AWS provider download per machine and version: `make synth` recreates cdktf.out/, and with it
# every stack's .terraform/, but this cache outlives it. An operator's own setting wins.
export TF_PLUGIN_CACHE_DIR ?= $(HOME)/.terraform.d/plugin-cache
# After a command that ran `terraform init`: take back the provider lock file it wrote or changed.
COLLECT_LOCK = $(VENV)/bin/python -m tools.provider_lock collect cdktf.out

PYTHON ?= python3.11
PIPENV_VERSION := 2026.10.3
TOOL_VENV := .tools/venv
PIPENV := $(TOOL_VENV)/bin/pipenv
VENV := .venv
APP_READY := $(VENV)/.synced
CHECKOV_DIR := tools/checkov
CHECKOV_READY := $(CHECKOV_DIR)/.venv/.synced
NODE_READY := node_modules/.synced
CDKTF := npx --no-install cdktf

.PHONY: help install synth test test-fast test-fast-plain test-fast-cdktf rehearse lint format bench review migration-report diagram require-stack require-stack-or-env plan deploy destroy deployed output clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PIPENV):
	@echo "== set-up: pipenv $(PIPENV_VERSION) into $(TOOL_VENV) (once per machine, ~10 s)"
	$(PYTHON) -m venv $(TOOL_VENV)
	$(TOOL_VENV)/bin/pip install --quiet pipenv==$(PIPENV_VERSION)

$(APP_READY): Pipfile.lock | $(PIPENV)
	@echo "== set-up: the app's Python packages from Pipfile.lock into $(VENV): CDKTF, the AWS provider bindings, pydantic,"
	@echo "   moto, pytest, ruff, mypy (once, and after each change of the lock file; ~1-2 min, quiet while it installs)"
	$(PIPENV) sync --dev
	@touch $@

# Checkov has its own virtualenv: its bc-python-hcl2 dependency installs a module
# named `hcl2` that would shadow python-hcl2, which reads envs/.
$(CHECKOV_READY): $(CHECKOV_DIR)/Pipfile.lock | $(PIPENV)
	@echo "== set-up: checkov from $(CHECKOV_DIR)/Pipfile.lock into its own virtualenv (once; ~30 s)"
	cd $(CHECKOV_DIR) && PIPENV_PIPFILE=Pipfile ../../$(PIPENV) sync
	@touch $@

$(NODE_READY): package-lock.json
	@echo "== set-up: the CDKTF CLI from package-lock.json into node_modules (once; ~20 s)"
	npm ci --no-audit --no-fund
	@touch $@

install: $(APP_READY) $(CHECKOV_READY) $(NODE_READY) ## Install Python (pipenv), checkov and the CDKTF CLI from the lock files

# The CLI comes along so that `npx cdktf ...` works right after `make synth`.
synth: $(APP_READY) $(NODE_READY) ## Write every stack to cdktf.out/ (replaced only when synthesis succeeds)
	@rm -rf cdktf.out.partial
	CDKTF_OUTDIR=cdktf.out.partial $(VENV)/bin/python main.py || { status=$$?; rm -rf cdktf.out.partial; exit $$status; }
	@rm -rf cdktf.out && mv cdktf.out.partial cdktf.out
	@$(VENV)/bin/python -m tools.provider_lock install cdktf.out
	@echo "Synthesized: $$(ls cdktf.out/stacks | tr '\n' ' ')"

lint: $(APP_READY) ## ruff (lint + format check), mypy, and the GitHub workflows (actionlint, zizmor)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@echo "== mypy: the whole code base, strict (~30 s; quiet until it finishes)"
	$(VENV)/bin/mypy
	$(VENV)/bin/actionlint -shellcheck $(VENV)/bin/shellcheck
	$(VENV)/bin/zizmor --offline --no-progress .github

format: $(APP_READY) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install lint ## Lint, then the whole test suite (one synthesis, checkov, CLI smoke test)
	$(VENV)/bin/pytest

# The inner loop: construct tests, config validation and the change report; no lint, no CLI or checkov runs.
# Two pytest processes side by side, one per core, each output printed whole when it ends: what never starts
# CDKTF (config validation, the boot script's runs) and what synthesizes (the constructs, the change report).
# Neither writes .pytest_cache (two writers would race); `make test` does.
FAST_TESTS_plain := $(wildcard tests/test_config*.py) tests/test_env_files.py tests/modules/api/test_boot_script.py
FAST_TESTS_cdktf := tests/modules tests/test_review.py --ignore=tests/modules/api/test_boot_script.py
test-fast: $(APP_READY) ## The inner loop (constructs, config, review) in seconds; make test stays the gate
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-fast-plain test-fast-cdktf

test-fast-plain test-fast-cdktf: test-fast-%: $(APP_READY)
	@$(VENV)/bin/pytest -q -p no:cacheprovider $(FAST_TESTS_$*)

rehearse: $(APP_READY) ## Apply every stack with Terraform against a local AWS (moto), then the runbook: make rehearse [ENVS="staging"] [REHEARSE_FLAGS=--pinned-provider]
	$(VENV)/bin/python -m tools.rehearse $(REHEARSE_FLAGS) $(ENVS)

ROUNDS ?= 3
FRESH_CLONE ?= 1
REHEARSE_BENCH ?= 0
bench: install ## Times against targets (exit 1 if one is missed; docs/development.md): make bench [ROUNDS=3] [FRESH_CLONE=0] [REHEARSE_BENCH=1]
	$(VENV)/bin/python -m tools.bench $(ROUNDS) $(if $(filter 0,$(FRESH_CLONE)),--no-fresh-clone) $(if $(filter 1,$(REHEARSE_BENCH)),--rehearse)

review: $(APP_READY) ## Offline change report against a git revision: make review BASE=origin/main
	@[ -n "$(BASE)" ] || { echo "BASE is required, e.g. make review BASE=origin/main"; exit 2; }
	$(VENV)/bin/python -m tools.review $(BASE)

migration-report: synth ## The old CDK system's resources and their fate in the cut-over (docs/migration.md); fails on a collision
	$(VENV)/bin/python -m tools.migration cdktf.out

diagram: synth ## Redraw docs/architecture.svg from the synthesized stacks (commit the result)
	$(VENV)/bin/python -m tools.diagram cdktf.out

require-stack:
	@[ -n "$(STACK)" ] || { echo "STACK is required, e.g. make $(MAKECMDGOALS) STACK=api-staging (see: npx cdktf list)"; exit 2; }

# Each command works on what `make synth` just wrote (--skip-synth). One stack at a time, its
# dependencies already deployed: cdktf's own check would insist they are part of the same run.
plan: require-stack synth ## Review a stack's changes against AWS: make plan STACK=network-staging
	@mkdir -p "$(TF_PLUGIN_CACHE_DIR)"
	$(CDKTF) diff --skip-synth $(STACK); status=$$?; $(COLLECT_LOCK); exit $$status

require-stack-or-env:
	@[ -n "$(STACK)$(ENV)" ] || { echo "STACK or ENV is required, e.g. make $(MAKECMDGOALS) STACK=api-staging or make $(MAKECMDGOALS) ENV=staging"; exit 2; }

# Deploy what was reviewed, and write down what was deployed (tools/deployed): `guard` refuses an uncommitted change or
# a commit not on main unless REASON says why; after each stack Terraform applied or destroyed, its record (commit,
# reason, who, when) goes beside its state. cdktf exits 0 also when the plan was dismissed: tools/terraform-applied
# marks what Terraform really did.
export REASON
APPLIED := .tools/applied
RECORDING = LITTIL_APPLIED_DIR=$(CURDIR)/$(APPLIED) TERRAFORM_BINARY_NAME=$(CURDIR)/tools/terraform-applied
RECORD = $(VENV)/bin/python -m tools.deployed record cdktf.out --applied $(APPLIED)
GUARD = $(VENV)/bin/python -m tools.deployed guard --action $@

deploy: require-stack-or-env synth ## Deploy what main holds (asks before applying): make deploy STACK=api-staging, or ENV=staging for all of one environment [REASON="why not main"]
	@if [ -n "$(ENV)" ]; then \
	  stacks=$$($(VENV)/bin/python -m tools.stacks cdktf.out "$(ENV)") || exit 2; \
	else stacks="$(STACK)"; fi; \
	$(GUARD) || exit 2; \
	mkdir -p "$(TF_PLUGIN_CACHE_DIR)"; \
	for stack in $$stacks; do \
	  echo "== $$stack"; \
	  rm -rf $(APPLIED) && mkdir -p $(APPLIED); \
	  $(RECORDING) $(CDKTF) deploy --skip-synth --ignore-missing-stack-dependencies "$$stack" || { $(COLLECT_LOCK); exit 1; }; \
	  $(RECORD) --action deploy "$$stack" || { $(COLLECT_LOCK); exit 1; }; \
	done; \
	$(COLLECT_LOCK)

destroy: require-stack synth ## Destroy stacks (asks first; a stack others read only with them): make destroy STACK=maintenance-staging [REASON=...]
	@$(VENV)/bin/python -m tools.stacks readers cdktf.out $(STACK)
	@$(GUARD)
	@mkdir -p "$(TF_PLUGIN_CACHE_DIR)" && rm -rf $(APPLIED) && mkdir -p $(APPLIED)
	$(RECORDING) $(CDKTF) destroy --skip-synth $(STACK); status=$$?; $(COLLECT_LOCK); \
	  [ $$status -eq 0 ] || exit $$status; $(RECORD) --action destroy $(STACK)

deployed: require-stack-or-env synth ## Per stack: the revision deployed, and whether main has changes not deployed yet: make deployed ENV=staging
	@if [ -n "$(ENV)" ]; then \
	  stacks=$$($(VENV)/bin/python -m tools.stacks cdktf.out "$(ENV)") || exit 2; \
	else stacks="$(STACK)"; fi; \
	$(VENV)/bin/python -m tools.deployed list cdktf.out $$stacks

output: require-stack synth ## Print a deployed stack's outputs: make output STACK=api-staging
	@mkdir -p "$(TF_PLUGIN_CACHE_DIR)"
	$(CDKTF) output --skip-synth $(STACK); status=$$?; $(COLLECT_LOCK); exit $$status

clean: ## Remove generated output (not the installed tools)
	rm -rf cdktf.out cdktf.out.partial .pytest_cache .mypy_cache .ruff_cache .tools/pycache
