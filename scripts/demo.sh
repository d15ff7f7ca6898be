#!/usr/bin/env bash
# The whole pipeline on one machine: an aggregator on SQLite on 127.0.0.1, an agent over the
# bundled sample logs, and the usage report from the store; then the console's address and its
# token (run from a terminal, the aggregator keeps serving it until Ctrl-C). Safe to run again:
# the agent starts from scratch each time (as a reinstalled agent would), and the aggregator
# keeps each record once.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${MEETMETER_BIN:-}" ]]; then
    bin=$MEETMETER_BIN   # already built (the tests run the demo this way)
else
    ./scripts/install-deps.sh
    swift build --product meetmeter-agent >&2
    swift build --product meetmeter-aggregator >&2
    swift build --product meetmeter >&2
    bin=$(swift build --show-bin-path)
fi

port=${MEETMETER_DEMO_PORT:-17800}
console_port=${MEETMETER_DEMO_CONSOLE_PORT:-17880}
demo=${MEETMETER_DEMO_DIR:-$PWD/demo}
mkdir -p "$demo"
token=demo-token-0123456789abcdef
# The console's operator token, made once.
[[ -s "$demo/console.token" ]] || { head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$demo/console.token"; chmod 600 "$demo/console.token"; }
cat > "$demo/aggregator.toml" <<TOML
[listen]
address = "127.0.0.1:$port"
[store]
path = "$demo/meetmeter.sqlite"
[metrics]
address = ""
[console]
address = "127.0.0.1:$console_port"
policy = "preset:live-collaboration"
operator_token_file = "$demo/console.token"
[[agents]]
host = "demo-bbb"
token = "$token"
TOML
cat > "$demo/agent.toml" <<TOML
host = "demo-bbb"
state_directory = "$demo/agent-state"
[aggregator]
address = "127.0.0.1:$port"
token = "$token"
[metrics]
address = ""
[[files]]
paths = ["$PWD/samples/bbb-apps-akka.log"]
software = "bbb"
TOML
"$bin/meetmeter-aggregator" --config "$demo/aggregator.toml" --check-config >&2
"$bin/meetmeter-agent" --config "$demo/agent.toml" --check-config >&2

"$bin/meetmeter-aggregator" --config "$demo/aggregator.toml" 2>"$demo/aggregator.log" &
aggregator=$!
trap 'kill "$aggregator" 2>/dev/null; wait "$aggregator" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    grep -q "listening" "$demo/aggregator.log" 2>/dev/null && break
    kill -0 "$aggregator" 2>/dev/null || { cat "$demo/aggregator.log" >&2; exit 1; }
    sleep 0.1
done

rm -rf "$demo/agent-state"
"$bin/meetmeter-agent" --config "$demo/agent.toml" --drain 2>"$demo/agent.log"
tail -n 1 "$demo/agent.log" >&2

"$bin/meetmeter" report --config "$demo/aggregator.toml" --period 2023-10 ${MEETMETER_DEMO_FORMAT:+--format "$MEETMETER_DEMO_FORMAT"}

echo "console: http://127.0.0.1:$console_port/console/?period=2023-10 (sign in with the token in $demo/console.token: $(cat "$demo/console.token"))" >&2
echo "api:     curl -H \"Authorization: Bearer \$(cat $demo/console.token)\" 'http://127.0.0.1:$console_port/api/v1/accounts?period=2023-10'" >&2
if [[ -t 0 && -t 2 ]]; then
    echo "the aggregator serves them until Ctrl-C" >&2
    wait "$aggregator" || true
fi
