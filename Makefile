# Build your own Redis in TypeScript. `make help` lists what is here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 6380
REDIS_PORT ?= 6379
TSX := node --import tsx
# Steps whose target runs their server. make 10-capstone runs the benchmark instead (it
# starts the capstone's server itself).
STEPS := $(filter-out 10-capstone,$(patsubst %/,%,$(sort $(dir $(wildcard [0-9][0-9]-*/server.ts)))))
VITEST := node_modules/.bin/vitest

# Dependencies are installed on first use, and again whenever package-lock.json changes.
node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@
DEPS := node_modules/.installed

.PHONY: help test typecheck docs drift exercises check hint diff bench bench-memory bench-parser bench-bgsave bench-pubsub 10-capstone $(STEPS)

help: ## List the targets
	@echo "Build your own Redis in TypeScript"
	@echo
	@echo "Run a step's server on port $(PORT) (then: nc -N localhost $(PORT), or redis-cli -p $(PORT)):"
	@for s in $(STEPS); do echo "  make $$s"; done
	@echo
	@echo "A second server beside it needs a port of its own (then: redis-cli -p 6381), and from"
	@echo "step 05 on a folder of its own for its files:"
	@echo "  make 03-get-set PORT=6381"
	@echo "  make 05-aof-persistence PORT=6381 ARGS=\"--dir data/second\""
	@echo
	@echo "Other flags, in redis-server's style, go in ARGS:"
	@echo "  make 04-expiry ARGS=\"--loglevel debug\""
	@echo
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STEPS): $(DEPS)
	$(TSX) $@/server.ts --port $(PORT) $(ARGS)

10-capstone: $(DEPS) ## The finale: the capstone's server (PORT) against real Redis (REDIS_PORT) under load; table, report and chart in results/ (ARGS=--help)
	PORT=$(PORT) REDIS_PORT=$(REDIS_PORT) $(TSX) tools/bench-capstone.ts $(ARGS)

# The doc checks: the static rules, then every transcript replayed (DOC=path: that doc's only).
DOC_CHECKS = $(TSX) tools/check-docs.ts && $(TSX) tools/replay-transcripts.ts $(DOC)

test: $(DEPS) ## Type check, doc checks, every step's tests, and prove the exercise solutions
	node_modules/.bin/tsc --noEmit
	$(DOC_CHECKS)
	$(TSX) tools/check-drift.ts
	@# Step 07's fan-out test holds a thousand subscribers' sockets, both ends, in one process.
	ulimit -n $$(ulimit -Hn) 2>/dev/null; $(VITEST) run
	$(TSX) tools/prove-exercises.ts

typecheck: $(DEPS) ## Type check only (tsc --noEmit)
	node_modules/.bin/tsc --noEmit

docs: $(DEPS) ## Check the docs (links, excerpts, make targets) and replay their transcripts; DOC=path for one
	$(DOC_CHECKS)

check: $(DEPS) ## Check an exercise: make check STEP=03 EX=1 (TARGET=redis for the reference)
	@test -n "$(STEP)" || (echo "usage: make check STEP=03 EX=1" && exit 2)
	$(VITEST) run --config vitest.exercises.config.ts $$(ls $(STEP)-*/exercises/$(EX)*.check.ts 2>/dev/null || echo no-such-exercise)

drift: $(DEPS) ## Step copies: each change from the step before is marked (// 05:); no import loops in a step
	$(TSX) tools/check-drift.ts

hint: $(DEPS) ## The next hint for an exercise: make hint STEP=05 EX=1 (HINT=2 shows one again, RESET=1 starts over)
	@$(TSX) tools/hint.ts $(STEP) $(EX) $(if $(HINT),--hint $(HINT)) $(if $(RESET),--reset)

exercises: $(DEPS) ## Prove each exercise: its reference passes its check, the step code and every wrong solution fail it
	$(TSX) tools/prove-exercises.ts

diff: $(DEPS) ## Show what a step adds to the one before it, and the lib/ files it starts to use: make diff STEP=03
	@$(TSX) tools/diff-step.ts $(STEP)

bench-parser: $(DEPS) ## Parser throughput: lib/resp-request.ts against the redis-parser package
	$(TSX) tools/bench-parser.ts

bench: $(DEPS) ## Every step from 03 on against real Redis with redis-benchmark: ops/s and CPU per request as ratios (STEP=05 for one; ROUNDS, REQUESTS)
	STEP=$(STEP) ROUNDS=$(or $(ROUNDS),3) REQUESTS=$(or $(REQUESTS),200000) $(TSX) tools/bench-vs-redis.ts

bench-memory: $(DEPS) ## Memory per key: 1,000,000 small keys, with and without deadlines, in a step and in real Redis (STEP=07, KEYS=...)
	STEP=$(STEP) KEYS=$(or $(KEYS),1000000) $(TSX) tools/bench-memory.ts

bench-bgsave: $(DEPS) ## Client waits and save time during a 1,000,000-key BGSAVE, against real Redis (KEYS=...)
	STEP=$(or $(STEP),06) $(TSX) tools/bench-bgsave.ts

bench-pubsub: $(DEPS) ## Pub/Sub fan-out (1, 100, 1,000 subscribers) and PUBLISH with patterns, against real Redis
	ulimit -n $$(ulimit -Hn) 2>/dev/null; STEP=$(or $(STEP),07) $(TSX) tools/bench-pubsub.ts
