#!/usr/bin/env bash
# One-shot start of the stack's Airflow (the airflow-init service in docker-compose.yml),
# run before the api-server, scheduler, DAG processor and triggerer. Idempotent:
#   1. migrate the metadata database (creates it on the first start);
#   2. write the UI's users file for Airflow's simple auth manager from
#      AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD;
#   3. render dbt/ into the manifest the DAGs are built from (what `make dbt-manifest`
#      does on a laptop), into AIRFLOW_HOME, not into the read-only project mount.
set -euo pipefail

airflow db migrate

python - <<'PY'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
users = {os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}
path.write_text(json.dumps(users))
path.chmod(0o600)
print(f"users file {path}: {', '.join(users)}")
PY

manifest_dir=$(dirname "$NOVA_AIRFLOW_DBT_MANIFEST")
mkdir -p "$manifest_dir" "$AIRFLOW_HOME/logs/dbt"
project=${NOVA_DBT_PROJECT_DIR:-/opt/nova/dbt}
dbt parse --quiet --project-dir "$project" --profiles-dir "$project" \
    --target "$NOVA_DBT_TARGET" --target-path "$manifest_dir" --log-path "$AIRFLOW_HOME/logs/dbt"
echo "dbt manifest: $NOVA_AIRFLOW_DBT_MANIFEST"
