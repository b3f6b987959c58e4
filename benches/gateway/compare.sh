#!/usr/bin/env bash
# Measures sluicegate-gateway beside nginx and an Express gateway, all proxying to one nginx
# upstream on loopback, with wrk. Prints one table and writes target/compare.json.
# README.md, "Comparing with nginx and Express", documents the rows and the settings below.
#
# Settings (environment):
#   COMPARE_DURATION      measured run per row, wrk's -d (default 10s; 1s with COMPARE_SMOKE=1)
#   COMPARE_WARMUP        unmeasured run before each row (default 2s; 0s with COMPARE_SMOKE=1)
#   COMPARE_CONNECTIONS   open connections, wrk's -c (default 32)
#   COMPARE_THREADS       wrk threads, wrk's -t (default 2)
#   COMPARE_ROWS          rows to run, in order (default "direct sluicegate sluicegate_redis
#                         nginx express")
#   COMPARE_NGINX_WORKERS worker_processes of the nginx row (default auto)
#   COMPARE_SMOKE=1       a quick check that every row works: 1 s per row, no warm-up
#   SLUICEGATE_GATEWAY_BIN  a built gateway binary to use instead of building one
#
# Everything listens on 127.0.0.1 on free ports, runs for a bounded time, and is stopped on exit,
# on failure and on Ctrl-C.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
logs_dir=$target_dir/compare-logs
dev_private_key=$root/examples/keys/dev-rsa-private.pem
dev_public_key=$root/examples/keys/dev-rsa-public.pem

# The consumer and credential that bench.yaml declares; the token names them.
jwt_issuer=sluicegate-bench
jwt_subject=bench-user
# Per-user limit of the gateway rows: far above what 10 s of load can reach, so nothing is
# refused and the rows measure the cost of checking a limit.
rate_limit_per_minute=100000000
# How long a process may take to start answering, and how long past its duration wrk may run.
start_timeout_s=20
wrk_grace_s=30

if [[ ${COMPARE_SMOKE:-0} == 1 ]]; then
    duration=${COMPARE_DURATION:-1s}
    warmup=${COMPARE_WARMUP:-0s}
else
    duration=${COMPARE_DURATION:-10s}
    warmup=${COMPARE_WARMUP:-2s}
fi
connections=${COMPARE_CONNECTIONS:-32}
threads=${COMPARE_THREADS:-2}
read -r -a rows <<<"${COMPARE_ROWS:-direct sluicegate sluicegate_redis nginx express}"
nginx_workers=${COMPARE_NGINX_WORKERS:-auto}
gateway_bin=${SLUICEGATE_GATEWAY_BIN:-}

started=() # PIDs of the processes this script runs and has not yet stopped
run_dir=""

say() { printf '%s\n' "$*" >&2; }

# fail MESSAGE [LOG]: print MESSAGE and the end of LOG, then exit (the EXIT trap cleans up).
fail() {
    say "compare.sh: $1"
    if [[ -n ${2:-} && -s $2 ]]; then
        say "--- last lines of $2:"
        tail -n 20 "$2" >&2
    fi
    exit 1
}

# seconds DURATION: wrk's duration syntax (10, 10s, 2m, 1h) in whole seconds.
seconds() {
    local value=${1%[smh]} unit=${1##*[0-9]}
    case $unit in
        "" | s) echo "$value" ;;
        m) echo $((value * 60)) ;;
        h) echo $((value * 3600)) ;;
    esac
}

validate_settings() {
    local name value
    for name in duration warmup; do
        value=${!name}
        [[ $value =~ ^[0-9]+[smh]?$ ]] || fail "COMPARE_${name^^} must look like 10s, 2m or 1h, got '$value'"
    done
    (($(seconds "$duration") >= 1)) || fail "COMPARE_DURATION must be at least 1s"
    for name in connections threads; do
        value=${!name}
        [[ $value =~ ^[1-9][0-9]*$ ]] || fail "COMPARE_${name^^} must be a positive whole number, got '$value'"
    done
    ((connections >= threads)) || fail "COMPARE_CONNECTIONS ($connections) must be at least COMPARE_THREADS ($threads)"
    [[ $nginx_workers =~ ^(auto|[1-9][0-9]*)$ ]] || fail "COMPARE_NGINX_WORKERS must be auto or a positive number, got '$nginx_workers'"
    ((${#rows[@]} > 0)) || fail "COMPARE_ROWS names no row"
    for value in "${rows[@]}"; do
        case $value in
            direct | sluicegate | sluicegate_redis | nginx | express) ;;
            *) fail "COMPARE_ROWS: unknown row '$value' (rows: direct sluicegate sluicegate_redis nginx express)" ;;
        esac
    done
}

wants() {
    local row
    for row in "${rows[@]}"; do [[ $row == "$1" ]] && return 0; done
    return 1
}

# wants_gateway: whether a row runs sluicegate-gateway.
wants_gateway() { wants sluicegate || wants sluicegate_redis; }

# require COMMAND PACKAGE: fail unless COMMAND is on PATH, naming the package that provides it.
require() {
    command -v "$1" >/dev/null || fail "'$1' not found; install it with: apt-get install $2"
}

check_tools() {
    require wrk wrk
    require nginx nginx
    require curl curl
    require python3 python3
    require openssl openssl
    require pgrep procps
    if wants express || wants sluicegate_redis; then
        require redis-server redis-server
        require redis-cli redis-tools
    fi
    if wants express; then
        require node nodejs
        require npm npm
    fi
}

# start NAME COMMAND...: run COMMAND in the background, its output in $run_dir/NAME.log.
# Sets started_pid.
start() {
    local name=$1
    shift
    "$@" >"$run_dir/$name.log" 2>&1 &
    started_pid=$!
    started+=("$started_pid")
}

# forget PID: drop PID from the processes to stop (it has exited and been waited for).
forget() {
    local pid=$1 kept=() other
    for other in "${started[@]}"; do
        [[ $other == "$pid" ]] || kept+=("$other")
    done
    started=("${kept[@]}")
}

# stop PID: stop a process this script started, politely first, and forget it.
stop() {
    local pid=$1 children
    if kill -0 "$pid" 2>/dev/null; then
        children=$(pgrep -P "$pid" || true)
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            # shellcheck disable=SC2086 # children is a list of PIDs
            kill -KILL "$pid" $children 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    forget "$pid"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local i
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        stop "${started[i]}"
    done
    [[ -n $run_dir ]] && rm -rf "$run_dir"
    exit "$status"
}

# free_ports N: N distinct TCP ports free on 127.0.0.1 right now, one per line.
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in sockets))
PY
}

# render TEMPLATE OUT NAME=VALUE...: copy TEMPLATE to OUT with each @NAME@ replaced by VALUE.
render() {
    local template=$1 out=$2 pair expressions=()
    shift 2
    for pair in "$@"; do
        expressions+=(-e "s|@${pair%%=*}@|${pair#*=}|g")
    done
    sed "${expressions[@]}" "$template" >"$out"
    if grep -q '@[A-Z_]*@' "$out"; then
        fail "$out: placeholders left unfilled: $(grep -o '@[A-Z_]*@' "$out" | sort -u | tr '\n' ' ')"
    fi
}

# wait_answering NAME PID URL LOG: wait until URL answers any HTTP status, or fail.
wait_answering() {
    local name=$1 pid=$2 url=$3 log=$4 tries=$((start_timeout_s * 10))
    while ((tries-- > 0)); do
        kill -0 "$pid" 2>/dev/null || fail "$name exited while starting" "$log"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true) != 000 ]]; then
            return 0
        fi
        sleep 0.1
    done
    fail "$name did not answer at $url within ${start_timeout_s}s" "$log"
}

# expect_upstream_answer NAME URL LOG: one authenticated request must reach the upstream.
expect_upstream_answer() {
    local name=$1 url=$2 log=$3 answer status
    answer=$(curl -s --max-time 5 -H "$auth_header" -w '\n%{http_code}' "$url" || true)
    status=${answer##*$'\n'}
    [[ $status == 200 && $answer == *'"service":"upstream"'* ]] \
        || fail "$name: a request with the bench token answered $status, not the upstream's 200: ${answer%$'\n'*}" "$log"
}

# await_exit PID LIMIT_S: wait for a started process to exit, for at most LIMIT_S seconds
# (0: no limit), forget it and return its exit status. Polls rather than `wait`s, so that
# Ctrl-C and TERM are handled at once.
await_exit() {
    local pid=$1 limit=$2 status=0 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        ((limit == 0 || SECONDS < deadline)) || return 124
        sleep 0.2
    done
    wait "$pid" || status=$?
    forget "$pid"
    return "$status"
}

# run_wrk OUT DURATION URL: one bounded wrk run, its output in OUT.
run_wrk() {
    local out=$1 run_for=$2 url=$3 status=0
    start wrk wrk -t"$threads" -c"$connections" -d"$run_for" --timeout 5s --latency \
        -s "$here/wrk-report.lua" -H "$auth_header" "$url"
    await_exit "$started_pid" $(($(seconds "$run_for") + wrk_grace_s)) || status=$?
    cp "$run_dir/wrk.log" "$out"
    ((status != 124)) || fail "wrk ran ${wrk_grace_s}s past its duration" "$out"
    ((status == 0)) || fail "wrk failed (exit $status)" "$out"
}

# cpu_ticks PID...: CPU time (user + system, in clock ticks) that the processes PID... and their
# children have used so far, children included while they run (nginx's workers).
cpu_ticks() {
    local pid fields total=0
    for pid in "$@" $(pgrep -P "$(tr ' ' ',' <<<"$*")" || true); do
        [[ -r /proc/$pid/stat ]] || continue
        # Fields after the command name, which may hold spaces: utime and stime are the 12th
        # and 13th of them.
        read -r -a fields <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}

# measure ROW URL PID...: warm up, then measure ROW, counting the CPU time of PID... (the
# processes doing the row's work), and keep its figures in $run_dir/results/ROW.json.
measure() {
    local row=$1 url=$2 before after
    shift 2
    if (($(seconds "$warmup") > 0)); then
        say "$row: warming up for $warmup"
        run_wrk "$logs_dir/$row.warmup.txt" "$warmup" "$url"
    fi
    say "$row: measuring for $duration with $connections connections on $threads threads"
    before=$(cpu_ticks "$@")
    run_wrk "$logs_dir/$row.txt" "$duration" "$url"
    after=$(cpu_ticks "$@")
    python3 "$here/report.py" row "$row" "$logs_dir/$row.txt" "$run_dir/results/$row.json" \
        $(((after - before) * 1000000 / $(getconf CLK_TCK))) \
        || fail "$row: the run is not usable; wrk's output is in $logs_dir/$row.txt"
}

base64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# mint_token: an RS256 JWT signed with the dev key, valid for an hour, for bench.yaml's consumer.
mint_token() {
    local now header payload signature
    now=$(date +%s)
    header=$(printf '{"alg":"RS256","typ":"JWT"}' | base64url)
    payload=$(printf '{"iss":"%s","sub":"%s","iat":%d,"exp":%d}' \
        "$jwt_issuer" "$jwt_subject" "$now" $((now + 3600)) | base64url)
    signature=$(printf '%s.%s' "$header" "$payload" \
        | openssl dgst -sha256 -sign "$dev_private_key" -binary | base64url)
    printf '%s.%s.%s' "$header" "$payload" "$signature"
}

# prepare: build the gateway and install the Express gateway's packages, as the rows need.
prepare() {
    if wants_gateway && [[ -z $gateway_bin ]]; then
        say "building sluicegate-gateway (release; log in $run_dir/build.log)"
        start build cargo build --release -p sluicegate-gateway --manifest-path "$root/Cargo.toml"
        await_exit "$started_pid" 0 || fail "cargo build failed" "$run_dir/build.log"
        gateway_bin=$target_dir/release/sluicegate-gateway
    fi
    if wants_gateway; then
        [[ -x $gateway_bin ]] || fail "no gateway binary at $gateway_bin"
    fi
    if wants express && [[ ! -d $here/express/node_modules ]]; then
        say "installing the Express gateway's packages (npm ci; log in $run_dir/npm.log)"
        start npm npm ci --prefix "$here/express" --no-audit --no-fund
        await_exit "$started_pid" 0 || fail "npm ci failed" "$run_dir/npm.log"
    fi
}

start_upstream() {
    mkdir -p "$run_dir/upstream-temp"
    render "$here/upstream.nginx.conf" "$run_dir/upstream.conf" \
        RUN_DIR="$run_dir" UPSTREAM_PORT="$upstream_port"
    start upstream nginx -p "$run_dir" -c "$run_dir/upstream.conf" -e "$run_dir/upstream.error.log"
    upstream_pid=$started_pid
    wait_answering upstream "$upstream_pid" "$upstream_url/" "$run_dir/upstream.log"
}

row_direct() {
    expect_upstream_answer direct "$upstream_url/" "$run_dir/upstream.log"
    measure direct "$upstream_url/" "$upstream_pid"
}

# gateway_row ROW CONFIG PID...: check CONFIG, run the gateway on it and measure ROW, counting
# the CPU time of the gateway and of PID... (processes working for it).
gateway_row() {
    local row=$1 config=$2 log=$run_dir/$1.log pid
    shift 2
    "$gateway_bin" check "$config" >"$run_dir/check.log" 2>&1 \
        || fail "sluicegate-gateway check refused $config" "$run_dir/check.log"
    start "$row" "$gateway_bin" run "$config" --listen "127.0.0.1:$proxy_port"
    pid=$started_pid
    wait_answering "$row" "$pid" "$proxy_url/" "$log"
    expect_upstream_answer "$row" "$proxy_url/" "$log"
    measure "$row" "$proxy_url/" "$pid" "$@"
    stop "$pid"
}

# bench_config OUT: bench.yaml, its service pointed at the upstream.
bench_config() {
    sed "s|^\(\s*url: \)http://127\.0\.0\.1:[0-9]*|\1$upstream_url|" "$here/bench.yaml" >"$1"
    grep -q "url: $upstream_url\$" "$1" || fail "bench.yaml: no service url to point at the upstream"
}

row_sluicegate() {
    bench_config "$run_dir/bench.yaml"
    gateway_row sluicegate "$run_dir/bench.yaml"
}

# The same gateway and limit, counted on Redis (`policy: redis`, one script call per request)
# on a redis-server of its own.
row_sluicegate_redis() {
    local config=$run_dir/bench-redis.yaml redis_pid
    bench_config "$config"
    sed -i "s|^\(\s*\)policy: local\$|\1policy: redis\n\1redis: {host: 127.0.0.1, port: $redis_port}|" "$config"
    grep -q "redis: {host: 127.0.0.1, port: $redis_port}" "$config" \
        || fail "bench.yaml: no \`policy: local\` line to count on Redis instead"
    start_redis
    redis_pid=$started_pid
    gateway_row sluicegate_redis "$config" "$redis_pid"
    stop "$redis_pid"
}

row_nginx() {
    local log=$run_dir/limit-proxy.log pid
    mkdir -p "$run_dir/limit-proxy-temp"
    render "$here/limit-proxy.nginx.conf" "$run_dir/limit-proxy.conf" RUN_DIR="$run_dir" \
        UPSTREAM_PORT="$upstream_port" PROXY_PORT="$proxy_port" NGINX_WORKERS="$nginx_workers"
    start limit-proxy nginx -p "$run_dir" -c "$run_dir/limit-proxy.conf" -e "$run_dir/limit-proxy.error.log"
    pid=$started_pid
    wait_answering nginx "$pid" "$proxy_url/" "$log"
    expect_upstream_answer nginx "$proxy_url/" "$log"
    measure nginx "$proxy_url/" "$pid"
    stop "$pid"
}

row_express() {
    local log=$run_dir/express.log redis_pid pid
    start_redis
    redis_pid=$started_pid
    start express env NODE_ENV=production GATEWAY_HOST=127.0.0.1 GATEWAY_PORT="$proxy_port" \
        UPSTREAM_URL="$upstream_url" REDIS_URL="redis://127.0.0.1:$redis_port" \
        JWT_PUBLIC_KEY_FILE="$dev_public_key" RATE_LIMIT_MAX="$rate_limit_per_minute" \
        RATE_LIMIT_WINDOW_MS=60000 node "$here/express/src/gateway.js"
    pid=$started_pid
    wait_answering express "$pid" "$proxy_url/" "$log"
    expect_upstream_answer express "$proxy_url/" "$log"
    measure express "$proxy_url/" "$pid" "$redis_pid"
    stop "$pid"
    stop "$redis_pid"
}

# start_redis: a fresh redis-server without persistence on $redis_port, answering PING; sets
# started_pid.
start_redis() {
    rm -rf "$run_dir/redis"
    mkdir -p "$run_dir/redis"
    start redis redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
        --dir "$run_dir/redis" --daemonize no
    wait_redis "$started_pid" "$run_dir/redis.log"
}

# wait_redis PID LOG: wait until redis-server answers PING.
wait_redis() {
    local pid=$1 log=$2 tries=$((start_timeout_s * 10))
    while ((tries-- > 0)); do
        kill -0 "$pid" 2>/dev/null || fail "redis-server exited while starting" "$log"
        if [[ $(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null || true) == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    fail "redis-server did not answer within ${start_timeout_s}s" "$log"
}

main() {
    validate_settings
    check_tools
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    run_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluicegate-compare.XXXXXX")
    mkdir -p "$run_dir/results" "$logs_dir"
    prepare

    local ports
    mapfile -t ports < <(free_ports 3)
    ((${#ports[@]} == 3)) || fail "could not find free ports on 127.0.0.1"
    upstream_port=${ports[0]} proxy_port=${ports[1]} redis_port=${ports[2]}
    upstream_url=http://127.0.0.1:$upstream_port
    proxy_url=http://127.0.0.1:$proxy_port
    auth_header="Authorization: Bearer $(mint_token)"

    say "all processes share this machine's $(nproc) cores; nothing is pinned"
    say "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work skews the figures)"
    start_upstream
    local row results=()
    for row in "${rows[@]}"; do
        "row_$row"
        results+=("$run_dir/results/$row.json")
    done
    say ""
    python3 "$here/report.py" table "$target_dir/compare.json" "${results[@]}"
    say "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    say "wrk's full output per row: $logs_dir/"
}

main "$@"
