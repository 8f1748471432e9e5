# gridbot — the two commands of the README:
#   make run    install what is missing, build, start the bot (SQLite + demo data)
#   make test   install what is missing, build, run every test
# Both work as root on a fresh Debian 12 machine.

BUILD ?= build
JOBS ?= 2
APT_PACKAGES := build-essential cmake pkg-config libpq-dev postgresql libboost1.81-dev libre2-dev libicu-dev \
  libsqlite3-dev libssl-dev nlohmann-json3-dev libpugixml-dev libgtest-dev libgmock-dev \
  libbenchmark-dev dpkg-dev systemd adduser chromium fonts-wqy-zenhei python3 clang libclang-rt-14-dev llvm
# Node.js for the browser test's driver, from Debian unless a node is there.
NODE_PACKAGES := nodejs npm
ARGS ?=

.PHONY: deps build run test test-asan test-tsan chat bench bench-http bench-search compare fuzz fuzz-http load clean

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

# Every test: the suite (with the load and kill runs), then the suite again
# under ASan+UBSan with short libFuzzer runs, then the concurrent parts
# under TSan.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j1
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-tsan

# clang, AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer), and
# the fuzz targets (fuzz/) with a short run of each on its seeds.
# Sanitizer builds at -O1 with line tables only: quicker to build and link,
# and still the stack traces a report needs.
SAN_CMAKE := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
test-asan: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)-asan $(SAN_CMAKE) \
	  -DGRIDBOT_SANITIZE=address,undefined -DGRIDBOT_FUZZ=ON -DGRIDBOT_BROWSER_TESTS=OFF
	cmake --build $(BUILD)-asan -j$(JOBS)
	$(SAN_ENV) ctest --test-dir $(BUILD)-asan --output-on-failure -j1

# ThreadSanitizer on what runs threads: the server (its HTTP tests, and a
# smaller load run with a kill and a SIGTERM under load) and the sequencer;
# on PostgreSQL (its pool) the store's own tests and two HTTP suites.
TSAN_TESTS := bot_unit_test http_test wechat_http_test desk_http_test storage_test
TSAN_RUN := bot_unit_test http_test wechat_http_test desk_http_test tsan_kill_test \
  storage_test_pg http_test_pg desk_http_test_pg
test-tsan: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)-tsan $(SAN_CMAKE) \
	  -DGRIDBOT_SANITIZE=thread -DGRIDBOT_BROWSER_TESTS=OFF
	cmake --build $(BUILD)-tsan -j$(JOBS) --target gridbot $(TSAN_TESTS)
	$(SAN_ENV) ctest --test-dir $(BUILD)-tsan --output-on-failure -j1 \
	  -R '^($(shell echo $(TSAN_RUN) | tr ' ' '|'))$$'

# Speed of the NLU (Google Benchmark), and the side-by-side with NLP.js.
bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRIDBOT_BENCH=ON
	cmake --build $(BUILD) -j$(JOBS) --target nlu_bench
	$(BUILD)/bench/nlu_bench --benchmark_min_time=2

# gridbot's full turns next to a bare Beast server and npm wechat on Express,
# with wrk, in a Release build (build-release); growth runs to 1M accounts and
# 1M customers (~25 min; ARGS=--quick: to 100k, ~5 min). Table and
# bench/http/results.json: README's "Performance".
bench-http: deps
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	@[ -d bench/http/peer/node_modules/wechat ] || (cd bench/http/peer && npm ci --no-audit --no-fund --loglevel=error)
	cmake -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release -DGRIDBOT_BENCH=ON -DGRIDBOT_TESTS=OFF
	cmake --build $(BUILD)-release -j$(JOBS) --target gridbot bare_server
	python3 bench/http/run.py --build $(BUILD)-release $(ARGS)

# Which search index finds what analysts type, and its speed on a larger log.
bench-search: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRIDBOT_BENCH=ON
	cmake --build $(BUILD) -j$(JOBS) --target search_eval
	$(BUILD)/bench/search_eval --copies 30

compare: build
	bench/compare.sh

# Longer fuzzing: each libFuzzer target for FUZZ_SECONDS (new inputs kept in
# build-asan/fuzz-corpus/, crashes in build-asan/fuzz-artifacts/).
FUZZ_SECONDS ?= 300
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)-asan $(SAN_CMAKE) \
	  -DGRIDBOT_SANITIZE=address,undefined -DGRIDBOT_FUZZ=ON -DGRIDBOT_BROWSER_TESTS=OFF
	cmake --build $(BUILD)-asan -j$(JOBS) --target wechat_xml_fuzz nlu_fuzz fixtures_fuzz http_request_fuzz
	@for t in wechat_xml nlu fixtures http_request; do \
	  mkdir -p $(BUILD)-asan/fuzz-corpus/$$t $(BUILD)-asan/fuzz-artifacts; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $(SAN_ENV) $(BUILD)-asan/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)-asan/fuzz-artifacts/$$t- \
	    $(BUILD)-asan/fuzz-corpus/$$t fuzz/seeds/$$t || exit 1; \
	done

# Hostile HTTP against a real server (slow; not part of `make test`).
fuzz-http: build
	@rm -rf $(BUILD)/fuzz && mkdir -p $(BUILD)/fuzz
	@$(BUILD)/bot/gridbot serve --listen 127.0.0.1:0 --db $(BUILD)/fuzz/fuzz.db \
	  --wechat-token fuzz > $(BUILD)/fuzz/serve.log 2>&1 & echo $$! > $(BUILD)/fuzz/pid; \
	for i in $$(seq 50); do grep -q listening $(BUILD)/fuzz/serve.log && break; sleep 0.2; done; \
	port=$$(grep -o '[0-9]*$$' $(BUILD)/fuzz/serve.log | head -1); \
	python3 tests/fuzz/http_smoke.py $$port 5000; rc=$$?; \
	kill $$(cat $(BUILD)/fuzz/pid); exit $$rc

# Longer load and kill runs than the suite's (figures in README).
LOAD_CUSTOMERS ?= 10000
load: build
	python3 tests/load/load.py $(BUILD)/bot/gridbot $(BUILD)/load-long --customers $(LOAD_CUSTOMERS) \
	  --concurrency 500 --report $(BUILD)/load-long/report.json
	python3 tests/load/load.py $(BUILD)/bot/gridbot $(BUILD)/kill-long --customers 3000 \
	  --concurrency 300 --kills 10 --term --seed 11 --report $(BUILD)/kill-long/report.json

clean:
	rm -rf $(BUILD)
