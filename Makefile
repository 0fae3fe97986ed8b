# One way to set up, run, lint, type-check and test. CI calls `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCALES := bot/i18n/locales

.PHONY: install translations run migrate test lint typecheck pytest i18n bench soak clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

translations: install
	@$(BIN)/pybabel compile --statistics -d $(LOCALES) -D messages 2>&1 | grep -v "^compiling" || true

run: translations
	@if [ -n "$$BOT_TOKEN" ]; then \
		$(BIN)/resident-bot migrate && exec $(BIN)/resident-bot run; \
	else \
		echo "BOT_TOKEN is not set: starting the local sandbox (no Telegram needed)."; \
		exec $(BIN)/resident-bot sandbox; \
	fi

migrate: install
	$(BIN)/resident-bot migrate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bot

pytest: translations
	$(BIN)/pytest -q

test: lint typecheck pytest

# Extract every translatable string, merge it into each catalog, compile.
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k ngettext:1,2 --no-location --sort-output \
		--project resident-bot --copyright-holder "resident-bot" -o $(LOCALES)/messages.pot bot
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D messages

bench: translations
	$(PY) -m bench

# The heavy fault tests at full size; their figures (see docs/reliability.md) are
# collected in data/reliability-figures.jsonl.
soak: translations
	@mkdir -p data && rm -f data/reliability-figures.jsonl
	SOAK=1 RELIABILITY_FIGURES=data/reliability-figures.jsonl $(BIN)/pytest -q -m "slow or e2e"
	@cat data/reliability-figures.jsonl

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
