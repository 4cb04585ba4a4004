#!/bin/sh
# Runs once, when the postgres volume is first created: the product's own database and
# role next to Prefect's (POSTGRES_DB). Keep the two apart.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v fund_password="$FUND_DB_PASSWORD" <<'SQL'
CREATE ROLE fund LOGIN PASSWORD :'fund_password';
CREATE DATABASE fund OWNER fund ENCODING 'UTF8';
SQL
