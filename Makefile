# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py

.PHONY: run serve setup test bench check-deploy constraints messages clean help

help:
	@echo "make run    - set up (virtualenv, packages, database, demo data) and serve on http://127.0.0.1:8000"
	@echo "make test   - set up and run the whole test suite (SQLite; PostgreSQL when DATABASE_URL is set)"
	@echo "make bench  - run the benchmarks, write bench/results/latest.json"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

data:
	mkdir -p data

setup: $(STAMP) | data
	$(MANAGE) migrate --no-input -v 0
	$(MANAGE) seed_demo
	$(MANAGE) ensure_admin

run: setup
	@echo "门户 / portal: http://127.0.0.1:8000/    后台 / admin: http://127.0.0.1:8000/admin/"
	$(VENV)/bin/honcho -f Procfile.dev start

serve: $(STAMP) | data
	$(MANAGE) runserver 127.0.0.1:8000

test: $(STAMP) | data
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(STAMP) | data
	$(PY) bench/run.py

check-deploy: $(STAMP)
	SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-key-0123456789abcdefghij ID_HASH_KEY=x \
	ALLOWED_HOSTS=example.com REDIS_URL=redis://127.0.0.1:6379/0 \
	DJANGO_SETTINGS_MODULE=config.settings.production $(MANAGE) check --deploy --fail-level WARNING

constraints: $(STAMP)
	$(PIP) freeze | sort > constraints.txt.new
	{ sed -n '1,2p' constraints.txt; cat constraints.txt.new; } > constraints.txt && rm constraints.txt.new

messages: $(STAMP)
	$(MANAGE) makemessages -l en --ignore '.venv/*' --ignore 'bench/*' --ignore 'tests/*'
	$(MANAGE) compilemessages -l en --ignore '.venv/*'

clean:
	rm -rf $(VENV) static_collected
