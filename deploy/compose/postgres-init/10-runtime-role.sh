#!/bin/sh
# First start of the database only (the postgres image runs /docker-entrypoint-initdb.d on
# an empty data directory): the runtime role the Probity services connect as. It owns
# nothing; `probity triage db migrate --grant-to probity_app` (the compose service
# `migrate`, as the owner) grants it what it may do (docs/security.md).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$PROBITY_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE probity_app LOGIN PASSWORD :'app_password';
SQL
