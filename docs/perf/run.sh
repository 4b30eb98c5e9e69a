#!/usr/bin/env bash
# Reproduces the figures of docs/PERFORMANCE.md on this machine:
#
#   docs/perf/run.sh postgres   # a stock PostgreSQL cluster of its own on 127.0.0.1
#   docs/perf/run.sh sqlite
#
# For postgres it starts a throwaway cluster with PostgreSQL's default
# configuration (fsync, synchronous_commit, full_page_writes and autovacuum
# on, shared_buffers 128MB) on 127.0.0.1:$PERF_PG_PORT (55432), so that the
# figures do not depend on how the machine's own server is tuned; set
# PERF_DATABASE_URL=postgres://... to use an existing server instead.
#
# It builds gatehouse and gatehouse-load, creates a fresh database, starts
# `gatehouse serve` as in production (https issuer behind a TLS proxy, plain
# HTTP on loopback, JSON request log to a file), creates the admin client the
# load generator provisions with, runs the scenarios and writes
# docs/perf/results-<db>.json (and startup-<db>.json). Loopback only.
#
# Environment: SCENARIOS (default: every scenario but the logins),
# LOGIN_SCENARIOS (login,login_totp; empty for none), CONCURRENCY (32),
# LOGIN_CONCURRENCY (8: two password hashes run at once on two cores, more
# logins in flight only queue), DURATION (15s), REPEAT (3 measured windows
# per scenario, the median one by rate is marked), ID_TOKEN_ALG
# (RS256), PERF_OUT (default docs/perf), PPROF=1 to write CPU and allocation
# profiles of each scenario instead ($PERF_OUT/pprof-<db>-<scenario>.txt,
# the top of each as text).
set -euo pipefail
cd "$(dirname "$0")/../.."

db="${1:-postgres}"
scenarios="${SCENARIOS:-client_credentials,client_credentials_jwt_rs256,client_credentials_jwt_es256,introspection,refresh,code,code_consent}"
concurrency="${CONCURRENCY:-32}"
login_concurrency="${LOGIN_CONCURRENCY:-8}"
login_scenarios="${LOGIN_SCENARIOS-login,login_totp}"
repeat="${REPEAT:-3}"
id_token_alg="${ID_TOKEN_ALG:-RS256}"
duration="${DURATION:-15s}"
out="${PERF_OUT:-docs/perf}"
port="${PERF_PORT:-18080}"
# Another server on the port would answer in place of the one measured.
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
	echo "perf: something already listens on 127.0.0.1:$port (PERF_PORT to choose another port)" >&2
	exit 1
fi

work="$(mktemp -d)"
mkdir -p "$out"

echo "perf: building into $work"
go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load

server_pid=""
pg_dir=""
drop_db() { :; }
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	drop_db
	[ -n "$pg_dir" ] && as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null
	rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT

# as_postgres runs a PostgreSQL program as the postgres user when run as
# root (initdb refuses root).
as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start_cluster() {
	pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
	if [ ! -x "$pg_bin/initdb" ]; then
		echo "perf: PostgreSQL is not installed (apt-get install postgresql), or set PERF_DATABASE_URL" >&2
		exit 1
	fi
	local pg_port="${PERF_PG_PORT:-55432}"
	pg_dir="$(mktemp -d /tmp/gatehouse-perf-pg.XXXXXX)"
	[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
	as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
	as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w \
		-o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_dir" start >/dev/null
	base="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
}

case "$db" in
postgres)
	if [ -n "${PERF_DATABASE_URL:-}" ]; then
		base="$PERF_DATABASE_URL"
	else
		start_cluster
	fi
	name="gatehouse_perf_$(date +%s)"
	psql "$base" -qc "CREATE DATABASE $name"
	dsn="${base%%/postgres\?*}/$name?sslmode=disable"
	drop_db() { psql "$base" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true; }
	;;
sqlite)
	dsn="sqlite://$work/gatehouse.db"
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
	-meta "machine=$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
	-meta "id_token_alg=$id_token_alg")
if [ "$db" = postgres ]; then
	meta+=(-meta "postgres=$(psql "$base" -qtAc "select current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', shared_buffers=' || current_setting('shared_buffers') || ', full_page_writes=' || current_setting('full_page_writes') || ', autovacuum=' || current_setting('autovacuum') || ', max_connections=' || current_setting('max_connections')")")
fi

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
	-d "$duration" -id-token-alg "$id_token_alg" "${meta[@]}")
if [ "${PPROF:-}" = 1 ]; then
	# The profiles cover the first 10 s of the measured window.
	for s in ${scenarios//,/ }; do
		c="$concurrency"
		case "$s" in login*) c="$login_concurrency" ;; esac
		"${load[@]}" -c "$c" -scenario "$s" -d 30s >"$work/load.out" &
		load_pid=$!
		until grep -q '^# .*measuring' "$work/load.out" 2>/dev/null; do sleep 0.2; done
		curl -fs -o "$work/cpu" "http://127.0.0.1:$((port + 1))/debug/pprof/profile?seconds=10" &
		cpu_pid=$!
		curl -fs -o "$work/allocs" "http://127.0.0.1:$((port + 1))/debug/pprof/allocs?seconds=10"
		wait "$cpu_pid"
		wait "$load_pid"
		{
			tail -n 1 "$work/load.out"
			echo
			go tool pprof -top -cum -nodecount 45 "$work/gatehouse" "$work/cpu" 2>/dev/null
			echo
			go tool pprof -top -sample_index=alloc_space -nodecount 25 "$work/gatehouse" "$work/allocs" 2>/dev/null
		} >"$out/pprof-$db-$s.txt"
		echo "perf: profile of $s in $out/pprof-$db-$s.txt"
	done
else
	"${load[@]}" -c "$concurrency" -repeat "$repeat" -scenario "$scenarios" -out "$out/results-$db.json"
	if [ -n "$login_scenarios" ]; then
		"${load[@]}" -c "$login_concurrency" -repeat "$repeat" -scenario "$login_scenarios" -out "$out/results-$db-login.json"
	fi
fi
echo "perf: server log $(wc -l <"$work/server.log") lines"
