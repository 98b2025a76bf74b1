#!/usr/bin/env bash
# Installs what is needed, builds (Release) and runs the demo server in the
# foreground. Stop it with Ctrl-C (graceful: sockets get 1001).
# Usage: [PORT=4000] scripts/demo.sh [--no-setup] [other server flags]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--no-setup" ]; then shift; else bash scripts/setup.sh; fi
bash scripts/build.sh build
# The chat demo (apps/chat) is not built yet; until it is, the demo is the
# roomcast server with its built-in echo:* channel.
if [ -x build/bin/roomcast-chat ]; then
  exec build/bin/roomcast-chat --host 127.0.0.1 --port "${PORT:-4000}" "$@"
fi
echo "demo: serving the built-in echo:* and presence:* channels (see README.md)"
exec build/bin/roomcast --host 127.0.0.1 --port "${PORT:-4000}" "$@"
