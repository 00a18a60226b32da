# Larder. `make run` starts it on the embedded SQLite default; `make test` runs every test.
# Both install what they need first.

NODE_MODULES := node_modules/.larder-installed
ARGS ?=

.PHONY: install build run test typecheck bench reliability clean update-fixtures system-deps example promqltest

install: $(NODE_MODULES)

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: install
	npm run --silent build

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
