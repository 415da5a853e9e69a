#!/usr/bin/env bash
# Full check of the escrow contracts; exits non-zero on any failure. Runnable from any folder:
#
#   bash contracts/ci.sh
#
# Steps: npm ci (when node_modules is missing or stale) -> forge fmt --check -> forge build (warnings
# are errors)
# -> forge test (profile `ci`, gas snapshot cheatcodes checked against snapshots/)
# -> forge snapshot --check (.gas-snapshot) -> ABI drift check against escrow/abi/
# -> deploy smoke test on a throw-away anvil (deploy script, deployments/31337.json, and the gas of a
#    real createEscrow transaction; then the local cross-chain path: Axelar doubles, sender and handler,
#    an Approve + Release relayed end to end). Set CONTRACTS_SKIP_ANVIL=1 to skip the last step.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-ci}"
started=$SECONDS

step() { printf '\n==> %s\n' "$*"; }

# ------------------------------------------------------------------ dependencies
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.ci-lock-sha256
forge="$(bin/foundry-tool forge)"
if [[ ! -x "$forge" || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
    step "npm ci"
    npm ci --no-audit --no-fund
    printf '%s\n' "$lock_hash" > "$stamp"
fi
anvil="$(bin/foundry-tool anvil)"
cast="$(bin/foundry-tool cast)"
"$forge" --version | head -1

# ------------------------------------------------------------------ build and test
step "forge fmt --check, forge build"
"$forge" fmt --check
"$forge" build --deny warnings

step "forge test (profile $FOUNDRY_PROFILE)"
FORGE_SNAPSHOT_CHECK=true "$forge" test

step "gas snapshot check (.gas-snapshot, snapshots/)"
FORGE_SNAPSHOT_CHECK=true "$forge" snapshot --check --match-contract EscrowGasTest
printf 'createEscrow, funded ETH, 3 approvers: %s gas (budget 200000, target < 160000)\n' \
    "$(node -p 'require("./snapshots/EscrowGasTest.json").createEscrow_eth_3approvers_txGas')"

# ------------------------------------------------------------------ ABIs
step "ABI drift check"
abi_tmp="$(mktemp -d)"
anvil_pid=""
anvil_log=""
cleanup() {
    if [[ -n "$anvil_pid" ]]; then kill "$anvil_pid" 2>/dev/null || true; wait "$anvil_pid" 2>/dev/null || true; fi
    rm -rf "$abi_tmp"
    [[ -z "$anvil_log" ]] || rm -f "$anvil_log"
}
trap cleanup EXIT
bash export-abi.sh --no-build "$abi_tmp" > /dev/null
if ! diff -ru ../escrow/abi "$abi_tmp"; then
    echo "escrow/abi/ is stale: run 'bash contracts/export-abi.sh' and commit the result" >&2
    exit 1
fi
echo "escrow/abi/ matches the build"

# ------------------------------------------------------------------ deploy smoke test
if [[ "${CONTRACTS_SKIP_ANVIL:-0}" != "1" ]]; then
    step "deploy smoke test on anvil"
    anvil_log="$(mktemp)"
    "$anvil" --host 127.0.0.1 --port 0 --chain-id 31337 > "$anvil_log" 2>&1 &
    anvil_pid=$!
    port=""
    for _ in $(seq 1 100); do
        port="$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$anvil_log")"
        [[ -n "$port" ]] && break
        kill -0 "$anvil_pid" 2>/dev/null || { cat "$anvil_log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n "$port" ]] || { echo "anvil did not start" >&2; cat "$anvil_log" >&2; exit 1; }
    rpc="http://127.0.0.1:$port"
    # anvil's well-known first dev account (public test key, never used on a real chain)
    key=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
    DEPLOYER_PRIVATE_KEY=$key DEPLOYMENTS_DIR=cache/ci-deployments \
        "$forge" script script/Deploy.s.sol:Deploy --rpc-url "$rpc" --broadcast --slow -q
    if ! diff -u deployments/31337.json cache/ci-deployments/31337.json; then
        echo "deployments/31337.json differs from a fresh anvil deployment" >&2
        exit 1
    fi
    factory="$(node -p 'require("./cache/ci-deployments/31337.json").escrowFactory')"
    [[ "$("$cast" code --rpc-url "$rpc" "$factory")" != "0x" ]] || { echo "no code at $factory" >&2; exit 1; }

    # A real createEscrow transaction: funded ETH escrow with 3 approvers.
    now="$("$cast" block latest --field timestamp --rpc-url "$rpc")"
    params="(0x70997970C51812dc3A010C7d01b50e0d17dc79C8,0x0000000000000000000000000000000000000000,0x90F79bf6EB2c4f870365E785982E1f101E93b906,0x$(printf 'smoke' | sha256sum | cut -c1-64),$((now + 86400)),$((now + 604800)),2,[0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65,0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc,0x976EA74026E726554dB657fA54763abd0C3a0aa9])"
    predicted="$("$cast" call --rpc-url "$rpc" "$factory" \
        'predictAddress(address,(address,address,address,bytes32,uint40,uint40,uint8,address[]))(address)' \
        0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 "$params")"
    receipt="$("$cast" send --rpc-url "$rpc" --private-key "$key" --value 1ether --json "$factory" \
        'createEscrow((address,address,address,bytes32,uint40,uint40,uint8,address[]),uint256)' \
        "$params" 1000000000000000000)"
    gas_used="$(node -e 'const r = JSON.parse(process.argv[1]); if (r.status !== "0x1") process.exit(1); console.log(Number(r.gasUsed));' "$receipt")"
    balance="$("$cast" balance --rpc-url "$rpc" "$predicted")"
    [[ "$balance" == "1000000000000000000" ]] || { echo "escrow $predicted holds $balance" >&2; exit 1; }
    echo "anvil: createEscrow (ETH, 3 approvers) used $gas_used gas; escrow $predicted holds 1 ether"
    if (( gas_used > 200000 )); then echo "over the 200,000 gas budget" >&2; exit 1; fi

    # Cross-chain instructions, local path: Axelar doubles + sender + handler on the same anvil. The
    # treasury (account 0) sends Approve and Release for an escrow whose only approver is the handler;
    # each message is relayed as Axelar would (approve at the gateway double, execute on the handler).
    DEPLOYER_PRIVATE_KEY=$key DEPLOYMENTS_DIR=cache/ci-deployments \
        "$forge" script script/DeployCrossChain.s.sol:DeployLocalCrossChain --rpc-url "$rpc" --broadcast --slow -q
    record=cache/ci-deployments/31337-crosschain.json
    field() { node -p "require('./$record').$1"; }
    gateway="$(field axelarGateway)"; sender="$(field instructionSender)"; handler="$(field instructionHandler)"
    source_chain="$(field sourceChain)"; dest_chain="$(field destinationChain)"
    now="$("$cast" block latest --field timestamp --rpc-url "$rpc")"
    xparams="(0x70997970C51812dc3A010C7d01b50e0d17dc79C8,0x0000000000000000000000000000000000000000,0x0000000000000000000000000000000000000000,0x$(printf 'crosschain-smoke' | sha256sum | cut -c1-64),$now,$((now + 86400)),1,[$handler])"
    xescrow="$("$cast" call --rpc-url "$rpc" "$factory" \
        'predictAddress(address,(address,address,address,bytes32,uint40,uint40,uint8,address[]))(address)' \
        0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 "$xparams")"
    "$cast" send --rpc-url "$rpc" --private-key "$key" --value 1ether -q "$factory" \
        'createEscrow((address,address,address,bytes32,uint40,uint40,uint8,address[]),uint256)' \
        "$xparams" 1000000000000000000
    for kind in 1 7; do   # EscrowInstruction.Kind: 1 = Approve, 7 = Release
        "$cast" send --rpc-url "$rpc" --private-key "$key" --value 0.001ether -q "$sender" \
            'send(string,address,address,uint8)' "$dest_chain" "$handler" "$xescrow" "$kind"
    done
    calls="$("$cast" call --rpc-url "$rpc" "$gateway" 'callCount()(uint256)')"
    [[ "$calls" == "2" ]] || { echo "gateway double recorded $calls calls, expected 2" >&2; exit 1; }
    for index in 0 1; do
        payload="$("$cast" call --rpc-url "$rpc" "$gateway" 'outgoingCall(uint256)((address,string,string,bytes))' "$index" \
            | sed -n 's/.*, \(0x[0-9a-f]*\))$/\1/p')"
        command_id="$("$cast" keccak "ci-smoke-command-$index")"
        "$cast" send --rpc-url "$rpc" --private-key "$key" -q "$gateway" \
            'approveContractCall(bytes32,string,string,address,bytes32)' \
            "$command_id" "$source_chain" "$sender" "$handler" "$("$cast" keccak "$payload")"
        "$cast" send --rpc-url "$rpc" --private-key "$key" -q "$handler" \
            'execute(bytes32,string,string,bytes)' "$command_id" "$source_chain" "$sender" "$payload"
    done
    status="$("$cast" call --rpc-url "$rpc" "$xescrow" 'status()(uint8)')"
    balance="$("$cast" balance --rpc-url "$rpc" "$xescrow")"
    [[ "$status" == "2" && "$balance" == "0" ]] || {
        echo "cross-chain smoke: escrow $xescrow status $status balance $balance (expected Released, 0)" >&2; exit 1; }
    echo "anvil: cross-chain Approve + Release relayed through the Axelar doubles; escrow $xescrow released"
fi

printf '\ncontracts: all checks passed in %ss\n' "$((SECONDS - started))"
