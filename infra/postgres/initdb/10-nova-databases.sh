#!/usr/bin/env bash
# One PostgreSQL server for the stack: the official image runs this once, when its data
# volume is empty, as the superuser ($POSTGRES_USER). It creates one login role and one
# database per user of the server, each owning its database:
#   erp      the ERP (the demo ERP that `nova demo` fills; the ERP's own in production)
#   airflow  Airflow's metadata database
#   mlflow   MLflow's tracking and registry store
#   app      the app database (users, sessions, API keys: backend/appdb)
# Passwords come from the environment (ERP_DB_PASSWORD, AIRFLOW_DB_PASSWORD,
# MLFLOW_DB_PASSWORD, APP_DB_PASSWORD). Re-running it is harmless: what exists is left as it is.
set -euo pipefail

create_owned_database() {
    local name=$1 password=$2
    if [[ -z "$password" ]]; then
        echo "no password for the $name role: set it in .env" >&2
        exit 1
    fi
    # psql quotes :'name' and :'password' as literals and format() quotes identifiers
    # (%I) and literals (%L) server-side: no SQL is pasted together from the values.
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$name" -v password="$password" <<'SQL'
select format('create role %I login password %L', :'name', :'password')
where not exists (select from pg_roles where rolname = :'name')\gexec
select format('create database %I owner %I', :'name', :'name')
where not exists (select from pg_database where datname = :'name')\gexec
select format('revoke all on database %I from public', :'name')\gexec
SQL
    echo "database $name ready (owner $name)"
}

create_owned_database erp "${ERP_DB_PASSWORD:-}"
create_owned_database airflow "${AIRFLOW_DB_PASSWORD:-}"
create_owned_database mlflow "${MLFLOW_DB_PASSWORD:-}"
create_owned_database app "${APP_DB_PASSWORD:-}"
