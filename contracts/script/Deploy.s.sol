// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Script} from "forge-std/Script.sol";

import {EscrowFactory} from "../src/EscrowFactory.sol";

/// @notice Deploys the EscrowFactory (which deploys the Escrow implementation) and records the
///         addresses in `deployments/<chainid>.json`.
/// @dev Environment:
///        DEPLOYER_PRIVATE_KEY  key of the deploying account (required)
///        DEPLOYMENTS_DIR       output folder relative to contracts/ (default "deployments")
///      The RPC endpoint is forge's `--rpc-url` (e.g. `--rpc-url "$RPC_URL"`). Supported chains:
///      31337 (local anvil), 11155111 (Sepolia), 80002 (Polygon Amoy).
contract Deploy is Script {
    error UnsupportedChain(uint256 chainId);

    function run() external returns (EscrowFactory factory) {
        uint256 chainId = block.chainid;
        if (!isSupported(chainId)) revert UnsupportedChain(chainId);
        uint256 key = vm.envUint("DEPLOYER_PRIVATE_KEY");
        address deployer = vm.addr(key);

        vm.startBroadcast(key);
        factory = new EscrowFactory();
        vm.stopBroadcast();

        string memory dir = vm.envOr("DEPLOYMENTS_DIR", string("deployments"));
        string memory folder = string.concat(vm.projectRoot(), "/", dir);
        vm.createDir(folder, true);
        string memory path = string.concat(folder, "/", vm.toString(chainId), ".json");
        vm.writeJson(toJson(chainId, deployer, factory), path);
    }

    /// @notice Whether this script may deploy to `chainId`.
    function isSupported(uint256 chainId) public pure returns (bool) {
        return chainId == 31337 || chainId == 11155111 || chainId == 80002;
    }

    /// @notice The deployment record written for one chain (keys in a fixed order).
    function toJson(uint256 chainId, address deployer, EscrowFactory factory) public returns (string memory) {
        string memory key = "deployment";
        vm.serializeUint(key, "chainId", chainId);
        vm.serializeAddress(key, "deployer", deployer);
        vm.serializeAddress(key, "escrowFactory", address(factory));
        return vm.serializeAddress(key, "escrowImplementation", factory.implementation());
    }
}
