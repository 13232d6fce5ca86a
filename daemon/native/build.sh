#!/bin/sh
# Builds the native addon (daemon/native/src) with node-gyp against the installed Node headers.
# It links the system's libzstd and liblz4: when their headers are missing and we are root on Debian,
# they are installed first; otherwise the error says what to install.
set -e
cd "$(dirname "$0")"
if [ ! -f /usr/include/zstd.h ] || [ ! -f /usr/include/lz4.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "nydus: installing libzstd-dev and liblz4-dev (needed by the native addon)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzstd-dev liblz4-dev >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzstd-dev liblz4-dev >/dev/null
    }
  else
    echo "nydus: the native addon needs zstd.h and lz4.h: install libzstd-dev and liblz4-dev" >&2
    exit 1
  fi
fi
if [ -n "$npm_config_node_gyp" ]; then
  node "$npm_config_node_gyp" rebuild --loglevel=warn
else
  npx --yes node-gyp rebuild --loglevel=warn
fi
