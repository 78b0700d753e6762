#!/usr/bin/env bash
# Creates the random secrets compose.yaml mounts (once; existing files are kept).
# The folder is git-ignored: never commit it.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
make() { [ -s "secrets/$1" ] || printf '%s' "$2" > "secrets/$1"; }
rand() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
make postgres_password "$(rand 24 | tr '+/' '-_')"
make database_url "postgres://portcullis:$(cat secrets/postgres_password)@postgres:5432/portcullis"
make key_hash_secret "$(rand 32)"
make master_key "$(rand 32)"
make metrics_token "$(rand 24 | tr '+/' '-_')"
make grafana_admin_password "$(rand 18 | tr '+/' '-_')"
echo "secrets in $(pwd)/secrets (Grafana user admin, password in secrets/grafana_admin_password)"
