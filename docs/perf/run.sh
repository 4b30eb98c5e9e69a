#!/usr/bin/env bash
# Reproduces the figures of docs/PERFORMANCE.md on this machine:
#
#   docs/perf/run.sh postgres   # PostgreSQL on 127.0.0.1:5432 (PERF_DATABASE_URL to change)
#   docs/perf/run.sh sqlite
#
# It builds gatehouse and gatehouse-load, creates a fresh database, starts
# `gatehouse serve` as in production (https issuer behind a TLS proxy, plain
# HTTP on loopback, JSON request log to a file), creates the admin client the
# load generator provisions with, runs the scenarios and writes
# docs/perf/results-<db>.json (and startup-<db>.json). Loopback only.
#
# Environment: SCENARIOS (default all), CONCURRENCY (32), DURATION (15s),
# PERF_OUT (default docs/perf), PPROF=1 to also write CPU and allocation
# profiles of each scenario to $PERF_OUT/pprof-<db>-<scenario>.*.
set -euo pipefail
cd "$(dirname "$0")/../.."

db="${1:-postgres}"
scenarios="${SCENARIOS:-all}"
concurrency="${CONCURRENCY:-32}"
duration="${DURATION:-15s}"
out="${PERF_OUT:-docs/perf}"
port="${PERF_PORT:-18080}"
work="$(mktemp -d)"
mkdir -p "$out"

echo "perf: building into $work"
go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load

case "$db" in
postgres)
	base="${PERF_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
	name="gatehouse_perf_$(date +%s)"
	psql "$base" -qc "CREATE DATABASE $name"
	dsn="${base%%/postgres\?*}/$name?sslmode=disable"
	drop_db() { psql "$base" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true; }
	;;
sqlite)
	dsn="sqlite://$work/gatehouse.db"
	drop_db() { :; }
	;;
*)
	echo "usage: $0 postgres|sqlite" >&2
	exit 2
	;;
esac

export GATEHOUSE_DSN="$dsn"
export GATEHOUSE_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
export GATEHOUSE_ISSUER="https://gatehouse.perf.test"
export GATEHOUSE_ADDR="127.0.0.1:$port"
export GATEHOUSE_LOG_FORMAT=json

server_pid=""
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	drop_db
	rm -rf "$work"
}
trap cleanup EXIT

"$work/gatehouse" migrate >/dev/null
"$work/gatehouse" roles create perf-admin --scope gatehouse:admin >/dev/null
admin_json="$("$work/gatehouse" clients create --name "gatehouse-load" --grant-type client_credentials --scope gatehouse:admin --json)"
GATEHOUSE_LOAD_CLIENT_ID="$(sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p' <<<"$admin_json")"
GATEHOUSE_LOAD_CLIENT_SECRET="$(sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p' <<<"$admin_json")"
export GATEHOUSE_LOAD_CLIENT_ID GATEHOUSE_LOAD_CLIENT_SECRET
"$work/gatehouse" clients grant "$GATEHOUSE_LOAD_CLIENT_ID" perf-admin >/dev/null

commit="$(git rev-parse HEAD)$(git diff --quiet HEAD || echo '+dirty')"
meta=(-meta "commit=$commit" -meta "db=$db" -meta "go=$(go env GOVERSION)"
	-meta "issuer=$GATEHOUSE_ISSUER" -meta "log=json to a file"
	-meta "machine=$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)")

echo "perf: start-up and idle memory"
"$work/gatehouse-load" startup -ready "http://127.0.0.1:$port/health/ready" -runs 5 \
	-out "$out/startup-$db.json" "${meta[@]}" -- "$work/gatehouse" serve

pprof_flag=()
[ "${PPROF:-}" = 1 ] && pprof_flag=(--pprof-addr 127.0.0.1:$((port + 1)))
"$work/gatehouse" serve "${pprof_flag[@]}" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
	sleep 0.1
done

load=("$work/gatehouse-load" -target "http://127.0.0.1:$port" -pid "$server_pid"
	-c "$concurrency" -d "$duration" "${meta[@]}")
if [ "${PPROF:-}" = 1 ]; then
	for s in ${scenarios//,/ }; do
		[ "$s" = all ] && { echo "PPROF=1 needs SCENARIOS=a,b,..." >&2; exit 2; }
		"${load[@]}" -scenario "$s" -out "$out/results-$db-$s.json" &
		load_pid=$!
		sleep 8 # preparation and warm-up
		curl -fs -o "$out/pprof-$db-$s.cpu" "http://127.0.0.1:$((port + 1))/debug/pprof/profile?seconds=8"
		curl -fs -o "$out/pprof-$db-$s.allocs" "http://127.0.0.1:$((port + 1))/debug/pprof/allocs"
		wait "$load_pid"
	done
else
	"${load[@]}" -scenario "$scenarios" -out "$out/results-$db.json"
fi
echo "perf: server log $(wc -l <"$work/server.log") lines"
