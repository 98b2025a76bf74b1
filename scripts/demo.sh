#!/usr/bin/env bash
# Installs what is needed, builds (Release) and runs the chat demo
# (build/bin/roomcast-chat, docs/chat.md) in the foreground; open the URL it
# prints. Messages are kept in ./data (SQLite). Stop it with Ctrl-C.
# Usage: [PORT=4000] scripts/demo.sh [--no-setup] [other server flags]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--no-setup" ]; then shift; else bash scripts/setup.sh; fi
bash scripts/build.sh build
echo "demo: the chat demo; open the URL below in a browser (two tabs or browsers to chat)"
exec build/bin/roomcast-chat --host 127.0.0.1 --port "${PORT:-4000}" --data-dir data "$@"
