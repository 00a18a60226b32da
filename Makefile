# Larder. `make run` starts it on the embedded SQLite default; `make test` runs every test.
# Both install what they need first.

NODE_MODULES := node_modules/.larder-installed
ARGS ?=

.PHONY: install build run test typecheck bench reliability clean update-fixtures system-deps example promqltest

install: $(NODE_MODULES)

# --ignore-scripts: the package's prepare script (a build, for installs from git) would
# build here and the stamp below would build again; make builds once, through the stamp.
$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# Compile only when something the build reads changed since the last one, so `make run`
# starts at once; listing the folders too catches a source file added or removed.
# tsc itself is incremental (its state in dist/, so `make clean` resets both).
BUILD_DIRS := src exporters storage rollup query grafana rules scripts
# ui/ is bundled by npm run build too: every file of it counts
BUILD_INPUTS := $(shell find $(BUILD_DIRS) -name '*.ts' -o -type d 2>/dev/null) $(shell find ui 2>/dev/null) tsconfig.json package.json
BUILD_STAMP := dist/.build-stamp

build: $(BUILD_STAMP)

$(BUILD_STAMP): $(BUILD_INPUTS) $(NODE_MODULES)
	npm run --silent build
	@touch $@

# Run as an executable, so its shebang sets the malloc setting it needs (src/cli.ts).
run: build
	./dist/src/cli.js serve $(ARGS)

system-deps:
	@./scripts/system-deps.sh

typecheck: install
	npx tsc -p tsconfig.test.json

test: build system-deps typecheck
	./scripts/run-tests.sh

# The express "recipes" example on the local PostgreSQL and Redis (ARGS='--traffic' adds synthetic load).
example: install
	node --import @tapjs/typescript/import examples/recipes/server.ts $(ARGS)

bench: build system-deps
	./scripts/run-bench.sh

# The long form of test/reliability/ (SIGKILLs, stalls, disk full, hostile input, soak);
# its quick form runs inside make test. Prints the figures at the end.
reliability: build system-deps
	./scripts/run-reliability.sh

# PromQL's test corpus (../shared/reference/promqltest) through query/: per-file counts.
# ARGS='-v' lists failures and skips; PROMQLTEST_DIALECTS=sqlite,postgresql adds PostgreSQL.
promqltest: install
	./scripts/promqltest.sh $(ARGS)

clean:
	rm -rf dist .tap

# Grafana: regenerate the dashboards' JSON from grafana/definitions (checked in; a test
# fails when it is out of date), and load data sources, folder and dashboards into a
# running Grafana: GRAFANA_URL, GRAFANA_TOKEN (or GRAFANA_USER/GRAFANA_PASSWORD), the
# LARDER_* settings of docs/grafana.md; ARGS='--sources=prometheus,sqlite --dry-run'.
.PHONY: grafana-dashboards grafana-import
grafana-dashboards: build
	node dist/scripts/generate.js dashboards

grafana-import: build
	node dist/grafana/import.js $(ARGS)

# The bundled alert rules: regenerate rules/<pack>.rules.yml and docs/alert-rules.md from
# rules/packs/ (checked in; a test fails when they are out of date).
# (Not named `rules`: that is a source folder the build stamp lists.)
.PHONY: alert-rules
alert-rules: build
	node dist/scripts/generate.js alert-rules

# The generated references: the configuration (docs/configuration.md, from src/options/),
# the metrics (docs/metrics.md, from real registries) and the commands' --help
# (docs/cli-reference.md, from src/cli/commands.ts), written between the markers of each
# page (checked in; test/docs/reference.test.ts fails when they are out of date).
.PHONY: docs-reference
docs-reference: build
	node dist/scripts/docs-reference.js
