#!/usr/bin/env bash
# bench/compare.sh - `wsc echo` against peer echo servers, same scenarios,
# one run, ratios printed and recorded.
#
#   bench/compare.sh [--quick] [--servers wsc,lws,node,python] [--seconds N]
#                    [--repeat N] [--build DIR] [--scenarios LIST]
#
# Builds its own Release tree (build-bench), starts each server pinned to
# core 1 (taskset -c 1), runs every scenario with wsc-loadgen pinned to core 0,
# and reports for each: messages/s, MB/s, latency p50/p99/p99.9, the server's
# CPU (utime+stime from /proc/PID/stat, read by wsc-loadgen at the edges of
# the measured window) per message or per handshake, the generator's own
# CPU %, and for idle connections the server's VmRSS growth per connection.
# A fresh server process serves each scenario.
#
# --scenarios: a comma-separated list of scenario names or groups (default
# all): "plain" (no extension: echo-32B, echo-4KiB, echo-1MiB, text-4KiB-utf8,
# idle, handshake) and "deflate" (permessage-deflate, 4 KiB JSON-like text:
# json-4KiB uncompressed as the baseline, json-4KiB-deflate with context
# takeover, json-4KiB-deflate-nt without, idle-deflate and idle-deflate-nt:
# memory per idle connection after one compressed exchange). For the deflate
# scenarios every server runs with compression on (its --deflate flag, in the
# scenario's takeover mode) and wsc-loadgen fails the run if a server does not
# accept permessage-deflate; wsc is skipped there while `wsc echo` has no
# --deflate. --quick runs plain, json-4KiB-deflate and idle-deflate-nt unless
# --scenarios says otherwise.
#
# Ratios: "x ref" columns divide by the reference server: wsc when it ran,
# else the best one of the scenario. Rates: above 1 is faster than the
# reference; costs (CPU per message, bytes per connection): above 1 is
# dearer.
#
# Output: a table per scenario; bench/results/<date>-<host>.md and .csv; the
# chart docs/img/bench-ratios.png (gnuplot; a partial --scenarios run gets
# files of its own, see below). --quick (a smoke run, < 1 min
# once built) writes its files under the build directory instead.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-bench
quick=0
servers=wsc,lws,node,python
seconds=5
repeat=1
scenario_list=

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --servers) servers=${2:?}; shift ;;
    --seconds) seconds=${2:?}; shift ;;
    --repeat) repeat=${2:?}; shift ;;
    --build) build=${2:?}; shift ;;
    --scenarios) scenario_list=${2:?}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage 2 ;;
  esac
  shift
done
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "compare.sh: bad --seconds" >&2; exit 2; }
[[ $repeat =~ ^[1-9][0-9]?$ ]] || { echo "compare.sh: bad --repeat" >&2; exit 2; }
if [ -z "$scenario_list" ]; then
  scenario_list=all
  [ $quick = 0 ] || scenario_list=plain,json-4KiB-deflate,idle-deflate-nt
fi

# idle: idle_conns measured beyond idle_base already open (the baseline RSS is
# taken with the base held, so one-time costs are not charged per connection)
warmup=1 idle_conns=10000 idle_base=1000 hold=2 dz_conns=2000
if [ $quick = 1 ]; then seconds=0.5 warmup=0.2 idle_conns=1000 idle_base=100 hold=0.3 dz_conns=200; fi

# 11,000 idle connections need 11,000 descriptors in the server and in the
# generator (each its own process, so one limit of 11,000 + margin suffices).
hard=$(ulimit -Hn)
want=$((idle_conns + idle_base + 1024))
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  idle_conns=$((hard - idle_base - 1024))
  echo "compare.sh: ulimit -Hn is $hard; idle scenario reduced to $idle_conns connections" >&2
  want=$hard
fi
ulimit -n "$want"

command -v taskset >/dev/null || { echo "compare.sh: taskset (util-linux) is needed" >&2; exit 1; }
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || echo "compare.sh: only $ncpu core: server and generator will share it" >&2
pin_server="taskset -c 1" pin_gen="taskset -c 0"
[ "$ncpu" -ge 2 ] || pin_server="taskset -c 0"

# ---- build ------------------------------------------------------------------
echo "== building in $build (Release)"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DWSC_TESTS=OFF -DWSC_BENCH=ON \
  -DWSC_WERROR=OFF >"$build/compare-cmake.log" 2>&1 || { cat "$build/compare-cmake.log" >&2; exit 1; }
cmake --build "$build" -j"$ncpu" --target wsc-loadgen >"$build/compare-build.log" 2>&1 ||
  { tail -30 "$build/compare-build.log" >&2; exit 1; }
loadgen=$build/bench/wsc-loadgen

want_server() { [[ ,$servers, == *,$1,* ]]; }
active=()
if want_server wsc; then
  if cmake --build "$build" -j"$ncpu" --target wsc_cli >>"$build/compare-build.log" 2>&1 &&
     "$build/wsc" echo --help >/dev/null 2>&1; then
    active+=(wsc)
    wsc_deflate=0
    # (--deflate alone is an older build's "not supported yet" placeholder)
    "$build/wsc" echo --help 2>&1 | grep -q -- --deflate-no-takeover && wsc_deflate=1
  else
    echo "compare.sh: skipping wsc: \`$build/wsc echo --help\` fails (the echo subcommand is not built yet?)" >&2
  fi
fi
if want_server lws; then
  if cmake --build "$build" -j"$ncpu" --target wsc-bench-lws-echo >>"$build/compare-build.log" 2>&1; then
    active+=(lws)
  else
    echo "compare.sh: skipping lws: wsc-bench-lws-echo not built (libwebsockets-dev missing? run scripts/setup)" >&2
  fi
fi
if want_server node; then
  if NODE_PATH=/usr/share/nodejs node -e "require('ws')" 2>/dev/null; then active+=(node)
  else echo "compare.sh: skipping node: node cannot require('ws') (run scripts/setup)" >&2; fi
fi
if want_server python; then
  if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then active+=(python)
  else echo "compare.sh: skipping python: /usr/bin/python3 cannot import websockets" >&2; fi
fi
[ ${#active[@]} -gt 0 ] || { echo "compare.sh: no server to run" >&2; exit 1; }
echo "== servers: ${active[*]}"

# ---- servers ----------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/wsc-compare.XXXXXX")
srv_pid=""
# SIGTERM, then SIGKILL if it has not exited within 3 s. Exited means gone
# or a zombie (`kill -0` succeeds on a zombie until wait reaps it).
running() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stop_server() {
  [ -n "$srv_pid" ] || return 0
  kill -TERM "$srv_pid" 2>/dev/null || true
  for _ in $(seq 30); do running "$srv_pid" || break; sleep 0.1; done
  kill -KILL "$srv_pid" 2>/dev/null || true
  wait "$srv_pid" 2>/dev/null || true
  srv_pid=""
}
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start server $1 on a free port, pinned, with permessage-deflate in mode $2
# (takeover or no-takeover) if given; sets srv_pid and srv_port.
start_server() {
  local name=$1 mode=${2:-} port log=$work/server.log
  local zflags=()
  [ -z "$mode" ] || zflags=(--deflate "$mode")
  port=$(free_port)
  # Truncate here: the redirections below happen in the forked child, maybe
  # after the first look at the log, which must not see the last server's line.
  : >"$log"
  case $name in
    wsc)
      # wsc spells the modes --deflate [--deflate-no-takeover]
      [ -z "$mode" ] || zflags=(--deflate)
      [ "$mode" != no-takeover ] || zflags+=(--deflate-no-takeover)
      $pin_server "$build/wsc" echo --listen "127.0.0.1:$port" "${zflags[@]}" >>"$log" 2>&1 & ;;
    lws) $pin_server "$build/bench/wsc-bench-lws-echo" "$port" "${zflags[@]}" >>"$log" 2>&1 & ;;
    node) NODE_PATH=/usr/share/nodejs $pin_server node "$root/bench/peers/node_echo.js" "$port" "${zflags[@]}" >>"$log" 2>&1 & ;;
    python) $pin_server /usr/bin/python3 "$root/bench/peers/py_echo.py" "$port" "${zflags[@]}" >>"$log" 2>&1 & ;;
  esac
  srv_pid=$! # taskset execs the server: the same process
  srv_port=""
  for _ in $(seq 100); do
    srv_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -z "$srv_port" ] || return 0
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "compare.sh: $name did not start:" >&2
  cat "$log" >&2
  stop_server
  return 1
}

# ---- scenarios ----------------------------------------------------------------
# group|name|loadgen arguments|what is compared|server deflate mode (empty: off)
all_scenarios=(
  "plain|echo-32B|echo -c 100 -k 16 -s 32|32-byte binary, 100 connections, 16 in flight each|"
  "plain|echo-4KiB|echo -c 50 -k 4 -s 4096|4 KiB binary, 50 connections, 4 in flight each|"
  "plain|echo-1MiB|echo -c 4 -k 2 -s 1048576|1 MiB binary, 4 connections, 2 in flight each|"
  "plain|text-4KiB-utf8|echo -c 50 -k 4 -s 4096 --utf8|4 KiB multi-byte UTF-8 text (validated), 50 connections, 4 in flight|"
  "plain|idle|idle -c $((idle_conns + idle_base)) --base $idle_base --hold $hold|$idle_conns idle connections (beyond $idle_base already held): server memory per connection|"
  "plain|handshake|handshake -c 50|handshakes/s: connect, upgrade, Close, EOF; 50 concurrent|"
  "deflate|json-4KiB|echo -c 50 -k 4 -s 4096 --payload json|4 KiB JSON text, uncompressed (the baseline of the deflate rows), 50 connections, 4 in flight|"
  "deflate|json-4KiB-deflate|echo -c 50 -k 4 -s 4096 --payload json --deflate takeover|4 KiB JSON, permessage-deflate with context takeover, 50 connections, 4 in flight|takeover"
  "deflate|json-4KiB-deflate-nt|echo -c 50 -k 4 -s 4096 --payload json --deflate no-takeover|4 KiB JSON, permessage-deflate without context takeover, 50 connections, 4 in flight|no-takeover"
  "deflate|idle-deflate|idle -c $dz_conns --hold $hold -s 4096 --payload json --deflate takeover|$dz_conns idle connections after one compressed 4 KiB JSON exchange, context takeover: server memory per connection|takeover"
  "deflate|idle-deflate-nt|idle -c $dz_conns --hold $hold -s 4096 --payload json --deflate no-takeover|$dz_conns idle connections after one compressed 4 KiB JSON exchange, no context takeover: server memory per connection|no-takeover"
)
scenarios=()
for sc in "${all_scenarios[@]}"; do
  IFS='|' read -r sgroup sname _ <<<"$sc"
  if [[ ,$scenario_list, == *,all,* || ,$scenario_list, == *,$sgroup,* || ,$scenario_list, == *,$sname,* ]]; then
    scenarios+=("${sc#*|}")
  fi
done
[ ${#scenarios[@]} -gt 0 ] || { echo "compare.sh: --scenarios $scenario_list selects nothing" >&2; exit 2; }

# field LINE KEY: the value of KEY=... in a RESULT line ("na" if absent).
field() { local v; v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1); echo "${v:-na}"; }

csv=$work/results.csv
echo "server,scenario,rate,mb_per_s,p50_us,p99_us,p999_us,server_cpu_pct,server_us_per_op,gen_cpu_pct,bytes_per_conn,errors,tx_ratio,rx_ratio" >"$csv"
failures=0

for sc in "${scenarios[@]}"; do
  IFS='|' read -r sname sargs sdesc smode <<<"$sc"
  echo "== $sname: $sdesc"
  for srv in "${active[@]}"; do
    if [ -n "$smode" ] && [ "$srv" = wsc ] && [ "$wsc_deflate" = 0 ]; then
      echo "   wsc: skipped (\`wsc echo --help\` has no --deflate in this build)" >&2
      continue
    fi
    best="" best_rate=-1
    for ((r = 1; r <= repeat; r++)); do
      if ! start_server "$srv" "$smode"; then failures=$((failures + 1)); continue 2; fi
      extra=()
      [[ $sargs == idle* ]] || extra=(-d "$seconds" -w "$warmup")
      # shellcheck disable=SC2086
      line=$($pin_gen "$loadgen" $sargs -p "$srv_port" --server-pid "$srv_pid" "${extra[@]}" \
               2>"$work/loadgen.err" | grep '^RESULT' || true)
      stop_server
      if [ -z "$line" ] || [ "$(field "$line" errors)" != 0 ]; then
        echo "   $srv: FAILED ${line:-no RESULT line}" >&2
        # (sed alone: under pipefail, `sed | head` fails when head leaves early)
        sed -n '1,5s/^/     /p' "$work/loadgen.err" >&2
        echo "     server log:" >&2; sed -n '1,5s/^/     /p' "$work/server.log" >&2
        failures=$((failures + 1))
        [ -n "$line" ] || continue
      fi
      rate=$(field "$line" msgs_per_s)
      [ "$rate" != na ] || rate=$(field "$line" hs_per_s)
      [ "$rate" != na ] || rate=0
      if awk -v a="$rate" -v b="$best_rate" 'BEGIN{exit !(a > b)}'; then best=$line best_rate=$rate; fi
    done
    [ -n "$best" ] || continue
    line=$best
    rate=$(field "$line" msgs_per_s)
    [ "$rate" != na ] || rate=$(field "$line" hs_per_s)
    cost=$(field "$line" server_us_per_msg)
    [ "$cost" != na ] || cost=$(field "$line" server_us_per_hs)
    echo "$srv,$sname,$rate,$(field "$line" mb_per_s),$(field "$line" p50_us),$(field "$line" p99_us),$(field "$line" p999_us),$(field "$line" server_cpu_pct),$cost,$(field "$line" gen_cpu_pct),$(field "$line" bytes_per_conn),$(field "$line" errors),$(field "$line" tx_ratio),$(field "$line" rx_ratio)" >>"$csv"
    echo "   $srv: $line"
  done
done

# ---- tables and chart -----------------------------------------------------------
# Markdown tables from the CSV; ratios against wsc when present, else the best.
tables() {
  awk -F, '
    NR == 1 { next }
    { key = $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      rows[key] = rows[key] "\n" $0
      if ($1 == "wsc") { refrate[key] = $3; refcost[key] = $9; refmem[key] = $11 }
      if ($3 != "na" && $3 + 0 > bestrate[key]) bestrate[key] = $3 + 0
      if ($9 != "na" && $9 + 0 > 0 && (!(key in bestcost) || $9 + 0 < bestcost[key])) bestcost[key] = $9 + 0
      if ($11 != "na" && (!(key in bestmem) || $11 + 0 < bestmem[key])) bestmem[key] = $11 + 0
    }
    function ratio(a, b) { return (a == "na" || b == "" || b == "na" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; m = split(rows[k], r, "\n")
        ref = (k in refrate || k in refmem) ? "wsc" : "best"
        printf "\n### %s\n\n", k
        if (k ~ /^idle/) {
          printf "| server | server RSS bytes/connection | x %s |\n|---|---:|---:|\n", ref
          for (j = 2; j <= m; j++) { split(r[j], f, ",")
            printf "| %s | %s | %s |\n", f[1], f[11], ratio(f[11], ref == "wsc" ? refmem[k] : bestmem[k]) }
          continue
        }
        unit = (k == "handshake") ? "handshake" : "msg"
        z = (k ~ /deflate/)  # compression ratios (payload / compressed bytes), each way
        printf "| server | %s/s | MB/s | p50 µs | p99 µs | p99.9 µs | server CPU %% | server µs/%s | generator CPU %% | rate x %s | µs/%s x %s |%s\n", unit, unit, ref, unit, ref,
          z ? " compression sent | compression echoed |" : ""
        printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|%s\n", z ? "---:|---:|" : ""
        for (j = 2; j <= m; j++) { split(r[j], f, ",")
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", f[1], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10],
            ratio(f[3], ref == "wsc" ? refrate[k] : bestrate[k]), ratio(f[9], ref == "wsc" ? refcost[k] : bestcost[k])
          if (z) printf " %s | %s |", f[13], f[14]
          printf "\n" }
      }
    }' "$csv"
}

# One data row per scenario, one column per server: the cost ratio (server
# CPU per message or handshake, bytes per idle connection) to the reference.
chart_data() {
  awk -F, -v servers="${active[*]}" '
    NR == 1 { next }
    { key = $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      c = (key ~ /^idle/) ? $11 : $9; cost[key, $1] = c
      if ($1 == "wsc") ref[key] = c
      if (c != "na" && c + 0 > 0 && (!(key in best) || c + 0 < best[key])) best[key] = c + 0 }
    END {
      ns = split(servers, s, " ")
      printf "scenario"; for (j = 1; j <= ns; j++) printf " %s", s[j]; printf "\n"
      for (i = 1; i <= n; i++) { k = order[i]; b = (k in ref && ref[k] + 0 > 0) ? ref[k] : best[k]
        printf "%s", k
        for (j = 1; j <= ns; j++) { c = cost[k, s[j]]; printf " %s", (c == "" || c == "na" || b + 0 == 0) ? "NaN" : sprintf("%.3f", c / b) }
        printf "\n" }
    }' "$csv"
}

date_s=$(date +%Y-%m-%d)
host=$(hostname -s 2>/dev/null || hostname)
# A partial run (--scenarios other than all) is named after its selection, so
# it never replaces the full run's files: <date>-<host>-deflate.md,
# docs/img/bench-ratios-deflate.png.
suffix=""
[ "$scenario_list" = all ] || suffix=-$(tr -c 'A-Za-z0-9.\n-' '+' <<<"$scenario_list")
if [ $quick = 1 ]; then outdir=$build/results chart=$build/bench-ratios$suffix.png
else outdir=$root/bench/results chart=$root/docs/img/bench-ratios$suffix.png; fi
mkdir -p "$outdir" "$(dirname "$chart")"
md=$outdir/$date_s-$host$suffix.md
ref_word=$([[ " ${active[*]} " == *" wsc "* ]] && echo wsc || echo "the best server of each scenario")
{
  echo "# Echo servers compared, $date_s on $host"
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $ncpu cores, kernel $(uname -r), $( . /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "- servers: ${active[*]}; lws $(pkg-config --modversion libwebsockets 2>/dev/null | sed "s/-$//" || echo "?"), node $(node --version 2>/dev/null || echo '?') with ws $(NODE_PATH=/usr/share/nodejs node -p "require('ws/package.json').version" 2>/dev/null || echo '?'), python websockets $(/usr/bin/python3 -c 'import websockets; print(websockets.__version__)' 2>/dev/null || echo '?')"
  echo "- conditions: server pinned to core 1, wsc-loadgen to core 0 (\`taskset\`); ${warmup} s warm-up then ${seconds} s measured per run; best of $repeat run(s) by rate; a fresh server process per run; loopback TCP"
  echo "- command: \`bench/compare.sh$([ $quick = 1 ] && echo ' --quick') --servers ${servers} --seconds $seconds --repeat $repeat --scenarios $scenario_list\`"
  echo "- deflate scenarios: each server with compression on in its default configuration (see bench/peers); wsc-loadgen compresses with zlib level 6 and the agreed client window; \"compression\" columns are payload bytes / compressed bytes, sent by wsc-loadgen and echoed by the server"
  echo "- ratios (\"x $([ "$ref_word" = wsc ] && echo wsc || echo best)\"): against $ref_word; a rate above 1 is faster, a cost (µs/msg, bytes/connection) above 1 is dearer"
  tables
} >"$md"
cp "$csv" "${md%.md}.csv"

if command -v gnuplot >/dev/null; then
  chart_data >"$work/chart.dat"
  ncol=$((${#active[@]} + 1))
  gnuplot <<EOF || echo "compare.sh: gnuplot failed; no chart" >&2
set terminal pngcairo size $((360 + 110 * $(($(wc -l <"$work/chart.dat") - 1)))),520 font "sans,11" noenhanced
set output "$chart"
set title "Server CPU per message / handshake, and memory per idle connection, relative to $ref_word (lower is better)$([ "$ref_word" = wsc ] && echo '\nscenarios without wsc: relative to the best server')"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y 2
set yrange [0.5:*]
set grid ytics
set ylabel "ratio (log scale)"
set key top left
set xtics nomirror rotate by -25
plot for [i=2:$ncol] "$work/chart.dat" using i:xtic(1) title columnheader(i)
EOF
  [ -f "$chart" ] && echo "== chart: $chart"
else
  echo "compare.sh: gnuplot not found (scripts/setup installs gnuplot-nox): no chart" >&2
fi

echo
cat "$md"
echo
echo "== results: $md (and .csv)"
[ $failures -eq 0 ] || { echo "compare.sh: $failures run(s) failed" >&2; exit 1; }
