#!/usr/bin/env bash
# Export the ABIs the Python side needs into escrow/abi/ (or into the folder given as $1).
#
#   bash contracts/export-abi.sh              # build, then write ../escrow/abi/*.json
#   bash contracts/export-abi.sh --no-build DIR   # reuse out/ (ci.sh), write DIR/*.json
#
# Files: Escrow.json, EscrowFactory.json, ERC20.json (OpenZeppelin IERC20Metadata: the ERC-20
# functions and events plus name/symbol/decimals), EscrowInstructionSender.json and
# EscrowInstructionHandler.json (cross-chain instructions over Axelar GMP). Each holds only the `abi` array, pretty-printed
# with two spaces and a final newline, so diffs stay readable and the output is byte-stable.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

build=1
if [[ "${1:-}" == "--no-build" ]]; then
    build=0
    shift
fi
dest="${1:-$HERE/../escrow/abi}"

if [[ ! -d node_modules ]]; then
    npm ci --no-audit --no-fund
fi
if [[ $build -eq 1 ]]; then
    "$(bin/foundry-tool forge)" build
fi

mkdir -p "$dest"
node - "$dest" <<'JS'
const fs = require('fs');
const path = require('path');
const dest = process.argv[2];
const artifacts = {
  'Escrow.json': 'out/Escrow.sol/Escrow.json',
  'EscrowFactory.json': 'out/EscrowFactory.sol/EscrowFactory.json',
  'ERC20.json': 'out/IERC20Metadata.sol/IERC20Metadata.json',
  'EscrowInstructionSender.json': 'out/EscrowInstructionSender.sol/EscrowInstructionSender.json',
  'EscrowInstructionHandler.json': 'out/EscrowInstructionHandler.sol/EscrowInstructionHandler.json',
};
for (const [name, artifact] of Object.entries(artifacts)) {
  const { abi } = JSON.parse(fs.readFileSync(artifact, 'utf8'));
  if (!Array.isArray(abi) || abi.length === 0) throw new Error(`no ABI in ${artifact}`);
  fs.writeFileSync(path.join(dest, name), JSON.stringify(abi, null, 2) + '\n');
  console.log(`wrote ${path.join(dest, name)} (${abi.length} entries)`);
}
JS
