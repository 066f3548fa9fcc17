#!/bin/sh
# Refuses to let the stack start with example or weak secrets (docker-compose.yml's
# secrets-check service: every other service waits for it to succeed).
#
#   check-secrets.sh EXAMPLE_FILE VERDICT_FILE NAME...
#
# Each NAME is an environment variable holding a secret. It fails when one is empty,
# shorter than 12 characters, starts with "change-me", or equals its value in
# EXAMPLE_FILE (.env.example). AIRFLOW_FERNET_KEY must also be a Fernet key: URL-safe
# base64 of 32 bytes. The verdict file is written only when every secret passes (the
# service's healthcheck reads it). POSIX sh, busybox or coreutils: runs in any image.
set -u

example_file=$1
verdict_file=$2
shift 2
rm -f "$verdict_file"
failed=0

refuse() {
    echo "secrets-check: $1 $2" >&2
    failed=1
}

for name in "$@"; do
    eval "value=\${$name:-}"
    if [ -z "$value" ]; then
        refuse "$name" "is empty: set it in .env"
        continue
    fi
    case "$value" in
        change-me*) refuse "$name" "still has the example value: set your own in .env" ;;
    esac
    if [ -f "$example_file" ] && grep -Fqx -- "$name=$value" "$example_file"; then
        refuse "$name" "equals its value in .env.example"
    elif [ "${#value}" -lt 12 ]; then
        refuse "$name" "is shorter than 12 characters"
    fi
    if [ "$name" = "AIRFLOW_FERNET_KEY" ]; then
        decoded=$(printf '%s' "$value" | tr -- '-_' '+/' | base64 -d 2>/dev/null | wc -c)
        if [ "${#value}" -ne 44 ] || [ "$decoded" -ne 32 ]; then
            refuse "$name" "is not a Fernet key (URL-safe base64 of 32 bytes)"
        fi
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "secrets-check: the stack does not start with these secrets" >&2
    exit 1
fi
echo "secrets-check: $# secrets pass" > "$verdict_file"
cat "$verdict_file"
