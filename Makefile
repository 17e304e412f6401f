# Yinzunda claims portal. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench messages browser-deps pdf-deps label-deps api-lint-deps worker beat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) messages

# Translation catalogues are compiled here, never committed.
messages: $(STAMP)
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	@cd $(CURDIR) && $(PY) manage.py compilemessages --ignore=.venv -v 0

run: install label-deps
	$(PY) manage.py migrate --noinput
	@case "$$DATABASE_URL" in postgres*) $(PY) manage.py pgpartition --yes --skip-delete;; esac  # events partitions ahead
	$(PY) manage.py seed_demo
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		echo "Starting Celery workers (queue urgent: routing; queue celery: webhooks, e-mails) and beat against $$REDIS_URL"; \
		trap 'kill 0' EXIT INT TERM; \
		$(BIN)/celery -A yinzunda worker -l info -Q urgent -n urgent@%h --concurrency 4 & \
		$(BIN)/celery -A yinzunda worker -l info -Q celery -n default@%h --concurrency 2 & \
		$(BIN)/celery -A yinzunda beat -l info & \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

# Debian chromium (and a CJK font, so screenshots show Chinese) for the Playwright browser tests (Playwright's own browser download is not used).
browser-deps:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@fc-list :lang=zh | grep -q . || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null)

# Pango for WeasyPrint (the evidence PDF) and a CJK font it embeds.
pdf-deps:
	@ldconfig -p | grep -q libpangoft2-1.0 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null)
	@fc-list :lang=zh | grep -q . || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null)

# Waybill label tests: poppler (pdftoppm) and zbar (zbarimg) render a label and read its
# barcode as a scanner would.
label-deps: pdf-deps
	@(command -v pdftoppm >/dev/null && command -v zbarimg >/dev/null) || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils zbar-tools >/dev/null)

# Redocly CLI lints the OpenAPI schema in the tests (tests/carriers/test_schema_tools.py); it is
# installed into .node/ (not committed), with Debian's nodejs/npm when the machine has no npm.
REDOCLY := .node/node_modules/.bin/redocly
$(REDOCLY):
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null)
	npm install --silent --no-audit --no-fund --no-save --prefix $(CURDIR)/.node @redocly/cli@2.37.0

api-lint-deps: $(REDOCLY)

test: install browser-deps pdf-deps label-deps api-lint-deps
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .test-media media private-media
