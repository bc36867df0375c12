#!/usr/bin/env bash
# TARGET_CMD for ../shared/bench/run-peer.sh: runs the built aisbf on 127.0.0.1:${AISBF_PORT:-18899}
# with one OpenAI-type provider "mock" pointed at the harness's mock upstream ($MOCK_BASE_URL), with
# the models the harness asks for (its smoke check embeds with a bare text-embedding-3-small on /v1:
# model_aliases maps it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$(mktemp -d /tmp/aisbf-peer.XXXXXX)"
cat > "$dir/aisbf.json" <<JSON
{ "server": { "port": ${AISBF_PORT:-18899}, "workers": ${AISBF_WORKERS:-1} }, "logging": { "level": "info" },
  "model_aliases": { "text-embedding-3-small": "mock/text-embedding-3-small" } }
JSON
cat > "$dir/providers.json" <<JSON
{ "providers": { "mock": { "type": "openai", "endpoint": "${MOCK_BASE_URL:?run this from run-peer.sh}", "api_key": "sk-bench",
  "models": [ { "name": "gpt-4o-mini", "capabilities": ["chat", "embeddings"] },
              { "name": "text-embedding-3-small", "capabilities": ["embeddings"] } ] } } }
JSON
echo '{"rotations":{}}' > "$dir/rotations.json"
echo '{}' > "$dir/autoselect.json"
cd "$root"
AISBF_CONFIG_DIR="$dir" exec node bin/aisbf.js > /dev/null
