#!/bin/sh
# idle_rss.sh BUILD_DIR [N] - what an idle connection costs `wsc echo`: start
# it on a free port, open N (default 10000) idle WebSocket connections with
# wsc-loadgen (handshakes done, nothing sent), and print the server's VmRSS
# growth per connection (loadgen's RESULT line: bytes_per_conn). A
# measurement, not a test. Needs a build with -DWSC_BENCH=ON.
set -eu
build=${1:?usage: idle_rss.sh BUILD_DIR [N]}
n=${2:-10000}
ulimit -n $((n + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
out=$(mktemp)
"$build/wsc" echo --listen 127.0.0.1:0 -q >"$out" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; rm -f "$out"' EXIT
i=0
until grep -q '^listening on' "$out"; do
  i=$((i + 1))
  [ $i -lt 100 ] || { echo "wsc echo did not start" >&2; exit 1; }
  sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out")
"$build/bench/wsc-loadgen" idle -p "$port" -c "$n" --hold 2 --server-pid "$pid"
