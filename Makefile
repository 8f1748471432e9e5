# gridbot — the two commands of the README:
#   make run    install what is missing, build, start the bot (SQLite + demo data)
#   make test   install what is missing, build, run every test
# Both work as root on a fresh Debian 12 machine.

BUILD ?= build
JOBS ?= 2
APT_PACKAGES := build-essential cmake pkg-config libboost1.81-dev libre2-dev libicu-dev \
  libsqlite3-dev libssl-dev nlohmann-json3-dev libpugixml-dev libgtest-dev libgmock-dev \
  libbenchmark-dev chromium fonts-wqy-zenhei
# Node.js for the browser test's driver, from Debian unless a node is there.
NODE_PACKAGES := nodejs npm
ARGS ?=

.PHONY: deps build run test chat bench bench-search compare fuzz clean

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	command -v npm >/dev/null 2>&1 || missing="$$missing $(NODE_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@# The browser test's driver (tests/browser/package-lock.json).
	@[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# The demo: the payment simulator on (a real deployment sets --pay-gateway).
run: build
	$(BUILD)/bot/gridbot serve --pay-simulator $(ARGS)

chat: build
	$(BUILD)/bot/gridbot chat $(ARGS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j1

# Speed of the NLU (Google Benchmark), and the side-by-side with NLP.js.
bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRIDBOT_BENCH=ON
	cmake --build $(BUILD) -j$(JOBS) --target nlu_bench
	$(BUILD)/bench/nlu_bench --benchmark_min_time=2

# Which search index finds what analysts type, and its speed on a larger log.
bench-search: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRIDBOT_BENCH=ON
	cmake --build $(BUILD) -j$(JOBS) --target search_eval
	$(BUILD)/bench/search_eval --copies 30

compare: build
	bench/compare.sh

# Hostile input against a real server (slow; not part of `make test`).
fuzz: build
	@rm -rf $(BUILD)/fuzz && mkdir -p $(BUILD)/fuzz
	@$(BUILD)/bot/gridbot serve --listen 127.0.0.1:0 --db $(BUILD)/fuzz/fuzz.db \
	  --wechat-token fuzz > $(BUILD)/fuzz/serve.log 2>&1 & echo $$! > $(BUILD)/fuzz/pid; \
	for i in $$(seq 50); do grep -q listening $(BUILD)/fuzz/serve.log && break; sleep 0.2; done; \
	port=$$(grep -o '[0-9]*$$' $(BUILD)/fuzz/serve.log | head -1); \
	python3 tests/fuzz/http_smoke.py $$port 5000; rc=$$?; \
	kill $$(cat $(BUILD)/fuzz/pid); exit $$rc

clean:
	rm -rf $(BUILD)
