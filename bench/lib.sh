# Shared by the bench scripts (sourced): the release build, SQL, a server on a port, sign-in
# as a demo user, and one wrk run printed as a row. Expects DATABASE_URL to be set.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/keel-target}"
export KEEL_LOG="${KEEL_LOG:-error}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
keel="$CARGO_TARGET_DIR/release/keel"

# The binary and the benches in one build, so dev-dependency features never force a rebuild.
build() { cargo build --release --quiet --bins --benches; }

sql() { psql "$DATABASE_URL" -qAtX -c "$1"; }

# bench_bin NAME: the newest release build of the bench target NAME.
bench_bin() { ls -t "$CARGO_TARGET_DIR"/release/deps/"$1"-* | grep -v '\.d$' | head -1; }

# api_token SCOPE…: a new API token with those scopes, created by an admin; prints its secret.
api_token() {
    local secret scopes
    secret="keel_bench$(date +%s%N)"
    scopes=$(printf "'%s'," "$@")
    sql "insert into api_tokens (id, name, token_hash, scopes, created_by)
         select gen_random_uuid(), 'bench', encode(sha256('$secret'::bytea), 'hex'), array[${scopes%,}], id
         from users where role = 'admin' limit 1" >/dev/null
    echo "$secret"
}

# serve PORT [ARGS…]: starts `keel serve` on PORT (stopped when the script exits) and waits
# until it answers.
serve() {
    port=$1
    shift
    KEEL_BIND="127.0.0.1:$port" "$keel" serve "$@" &
    server=$!
    trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
    echo "the server on port $port did not start" >&2
    exit 1
}

# stop_server: stops what `serve` started.
stop_server() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    trap - EXIT
}

# login EMAIL: the session cookie of a demo user (password keel-demo-2026) on $port.
login() {
    local cookie
    cookie=$(curl -s -o /dev/null -D - -H "Origin: http://127.0.0.1:$port" \
        --data "email=$1&password=keel-demo-2026" "http://127.0.0.1:$port/login" \
        | sed -n 's/^set-cookie: \(keel_session=[^;]*\).*/\1/ip')
    [[ -n "$cookie" ]] || { echo "sign-in as $1 failed: load the demo first" >&2; exit 1; }
    echo "$cookie"
}

# page LABEL PATH COOKIE [CONNECTIONS] [SECONDS] [HEADER]: one wrk run (2 threads), printed as
# "label  req/s  p50  p99  non-2xx/3xx"; sets $rps and $p99 for the caller. HEADER (e.g.
# "HX-Request: true") is sent with every request besides the cookie.
page() {
    local label=$1 path=$2 cookie=$3 conns=${4:-${conns:-32}} secs=${5:-${duration:-10}} out non2xx
    local extra=()
    [[ -z "${6:-}" ]] || extra=(-H "$6")
    # One request first, as a user's first visit: what a page keeps (a book, the day's save
    # rates) is then measured warm, not as 32 identical first requests racing to fill it.
    curl -s -o /dev/null -H "Cookie: $cookie" "${extra[@]}" "http://127.0.0.1:$port$path"
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Cookie: $cookie" "${extra[@]}" "http://127.0.0.1:$port$path")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    printf '%-32s %9s req/s   p50 %-8s p99 %-8s non-2xx/3xx %s\n' "$label" "$rps" \
        "$(awk '$1=="50%" {print $2}' <<<"$out")" "$p99" "${non2xx:-0}"
}
