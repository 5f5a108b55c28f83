#!/bin/sh
# Import Podman's db.sql into a fresh, temporary fsstate store and list what it holds.
#
# Usage: examples/import_podman_db.sh [DB.SQL]
#   DB.SQL defaults to examples/data/podman-db.sql (7 containers, 2 pods, 7 volumes).
#   The database is only read. The store lives in a temporary directory removed on exit.
#   Runs `fsstate` from PATH, else `$PYTHON -m fsstate` (PYTHON defaults to python3).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
db=${1:-"$here/data/podman-db.sql"}

store=$(mktemp -d "${TMPDIR:-/tmp}/fsstate-example.XXXXXX")
trap 'rm -rf "$store"' EXIT INT TERM
export FSSTATE_ROOT="$store/root" FSSTATE_TMP="$store/tmp"

if command -v fsstate >/dev/null 2>&1; then
    run() { fsstate "$@"; }
else
    run() { "${PYTHON:-python3}" -m fsstate "$@"; }
fi

echo "\$ fsstate import-podman $db"
run import-podman "$db"
for cmd in "ps -a" "pod ls" "volume ls"; do
    echo
    echo "\$ fsstate $cmd"
    # shellcheck disable=SC2086 # the command's words are meant to split
    run $cmd
done
