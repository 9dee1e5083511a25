#!/usr/bin/env bash
# Generates Python message and gRPC stub modules from the Braid contract
# (proto/braid/v1/*.proto) with Debian's grpc_tools (python3-grpc-tools):
#
#   examples/python/generate.sh [OUT_DIR]      # default: examples/python/gen (gitignored)
#
# Then `import sys; sys.path.insert(0, OUT_DIR)` and
# `from braid.v1 import producer_pb2, producer_pb2_grpc`.
#
# Debian 12's python3-grpc-tools (1.14.1) embeds protoc 3.5.1, which predates
# proto3 `optional` (protoc 3.12+). So the .proto files are first copied to a
# temporary directory and every `optional T name = N;` is lowered to
# `oneof _name { T name = N; }`, which is how protoc itself represents proto3
# optional (a "synthetic" one-field oneof named `_name`): same field numbers,
# same wire format, and `msg.HasField("name")` works the same in Python.
# The contract in proto/ is never modified.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/gen}"
python="${BRAID_PYTHON:-/usr/bin/python3}"

if ! "$python" -c 'import grpc, grpc_tools' 2>/dev/null; then
  echo "generate.sh: $python cannot import grpc and grpc_tools;" \
    "install with: apt-get update && apt-get install -y python3-grpcio python3-grpc-tools" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/braid/v1" "$out"

for file in "$root"/proto/braid/v1/*.proto; do
  sed -E 's/^([[:space:]]*)optional[[:space:]]+([A-Za-z0-9_.]+)[[:space:]]+([A-Za-z0-9_]+)[[:space:]]*=[[:space:]]*([0-9]+)([^;]*);/\1oneof _\3 { \2 \3 = \4\5; }/' \
    "$file" >"$work/braid/v1/$(basename "$file")"
done
if grep -nE '^[[:space:]]*optional[[:space:]]' "$work"/braid/v1/*.proto >&2; then
  echo "generate.sh: could not lower the optional field(s) above" >&2
  exit 1
fi

(cd "$work" && "$python" -m grpc_tools.protoc -I . --python_out="$out" --grpc_python_out="$out" braid/v1/*.proto)
# Python 3 namespace packages would do, but explicit packages are clearer.
touch "$out/braid/__init__.py" "$out/braid/v1/__init__.py"
echo "generated $(find "$out/braid" -name '*.py' ! -name '__init__.py' | wc -l) modules into $out"
