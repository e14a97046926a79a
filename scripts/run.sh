#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds the default preset and runs earshot with
# config/earshot.yaml. Extra arguments go to earshot, for example
#   bash scripts/run.sh --web.listen-address=127.0.0.1:9737 --log.level=debug
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

bash scripts/setup.sh
cmake --preset default
cmake --build --preset default

exec build/default/userspace/app/earshot --config.file="$here/config/earshot.yaml" "$@"
