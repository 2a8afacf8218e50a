# Sourced: makes sure a local PostgreSQL answers on 127.0.0.1:5432 with a `jingzhun`
# role (password `jingzhun`, allowed to create databases), and sets
# JINGZHUN_POSTGRES_ADMIN_URL. Needs root (or the postgres user) the first time.

JINGZHUN_POSTGRES_ADMIN_URL="postgres://jingzhun:jingzhun@127.0.0.1:5432/postgres"

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -c "$(printf '%q ' "$@")"; fi
}

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  cluster=$(pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2; exit}')
  if [ -z "$cluster" ]; then
    echo "No PostgreSQL cluster found: install postgresql-15 (Debian) or set JINGZHUN_TEST_POSTGRES_URL." >&2
    return 1 2>/dev/null || exit 1
  fi
  pg_ctlcluster $cluster start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if [ "$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'jingzhun'")" != "1" ]; then
  as_postgres psql -qc "CREATE ROLE jingzhun LOGIN CREATEDB PASSWORD 'jingzhun'"
fi
export JINGZHUN_POSTGRES_ADMIN_URL
