// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Script} from "forge-std/Script.sol";

import {EscrowInstructionHandler} from "../src/EscrowInstructionHandler.sol";
import {EscrowInstructionSender} from "../src/EscrowInstructionSender.sol";
import {AxelarGasServiceDouble, AxelarGatewayDouble} from "../test/doubles/AxelarDoubles.sol";

/// @dev Shared by the cross-chain deploy scripts: supported chains and the record file.
abstract contract CrossChainScript is Script {
    error UnsupportedChain(uint256 chainId);

    function isSupported(uint256 chainId) public pure returns (bool) {
        return chainId == 31337 || chainId == 11155111 || chainId == 80002;
    }

    function _checkChain() internal view {
        if (!isSupported(block.chainid)) revert UnsupportedChain(block.chainid);
    }

    /// @dev Writes `json` to `<DEPLOYMENTS_DIR>/<chainid>-<name>.json` (DEPLOYMENTS_DIR default "deployments").
    function _write(string memory name, string memory json) internal returns (string memory path) {
        string memory dir = vm.envOr("DEPLOYMENTS_DIR", string("deployments"));
        string memory folder = string.concat(vm.projectRoot(), "/", dir);
        vm.createDir(folder, true);
        path = string.concat(folder, "/", vm.toString(block.chainid), "-", name, ".json");
        vm.writeJson(json, path);
    }
}

/// @notice Source chain (e.g. Polygon Amoy): deploys {EscrowInstructionSender}.
/// @dev Environment:
///        DEPLOYER_PRIVATE_KEY  deploying account (required)
///        AXELAR_GATEWAY        Axelar gateway on this chain (required)
///        AXELAR_GAS_SERVICE    Axelar gas service on this chain (required)
///        SENDER_OWNER          the treasury (e.g. a multisig); default the deployer
///        DEPLOYMENTS_DIR       record folder relative to contracts/ (default "deployments")
///      Writes `<chainid>-instruction-sender.json`.
contract DeployInstructionSender is CrossChainScript {
    function run() external returns (EscrowInstructionSender sender) {
        uint256 key = vm.envUint("DEPLOYER_PRIVATE_KEY");
        address deployer = vm.addr(key);
        sender = deploy(
            key,
            vm.envAddress("AXELAR_GATEWAY"),
            vm.envAddress("AXELAR_GAS_SERVICE"),
            vm.envOr("SENDER_OWNER", deployer)
        );
        string memory k = "sender";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeAddress(k, "deployer", deployer);
        vm.serializeAddress(k, "owner", sender.owner());
        vm.serializeAddress(k, "axelarGateway", address(sender.gateway()));
        vm.serializeAddress(k, "axelarGasService", address(sender.gasService()));
        _write("instruction-sender", vm.serializeAddress(k, "instructionSender", address(sender)));
    }

    function deploy(uint256 key, address gateway, address gasService, address owner)
        public
        returns (EscrowInstructionSender sender)
    {
        _checkChain();
        vm.startBroadcast(key);
        sender = new EscrowInstructionSender(gateway, gasService, owner);
        vm.stopBroadcast();
    }
}

/// @notice Escrow chain (e.g. Sepolia): deploys {EscrowInstructionHandler} and optionally allowlists one
///         source (the sender on the source chain).
/// @dev Environment:
///        DEPLOYER_PRIVATE_KEY    deploying account (required)
///        AXELAR_GATEWAY          Axelar gateway on this chain (required)
///        HANDLER_OWNER           manages the allowlist; default the deployer. If it is not the deployer,
///                                ownership is offered to it (Ownable2Step: it must call acceptOwnership)
///        HANDLER_SOURCE_CHAIN    Axelar's name of the source chain, e.g. "polygon-sepolia" (optional)
///        HANDLER_SOURCE_ADDRESS  the EscrowInstructionSender there (optional, with HANDLER_SOURCE_CHAIN)
///        DEPLOYMENTS_DIR         record folder relative to contracts/ (default "deployments")
///      Writes `<chainid>-instruction-handler.json`.
contract DeployInstructionHandler is CrossChainScript {
    function run() external returns (EscrowInstructionHandler handler) {
        uint256 key = vm.envUint("DEPLOYER_PRIVATE_KEY");
        address deployer = vm.addr(key);
        string memory sourceChain = vm.envOr("HANDLER_SOURCE_CHAIN", string(""));
        address sourceAddress = vm.envOr("HANDLER_SOURCE_ADDRESS", address(0));
        handler = deploy(
            key,
            vm.envAddress("AXELAR_GATEWAY"),
            vm.envOr("HANDLER_OWNER", deployer),
            sourceChain,
            sourceAddress
        );
        string memory k = "handler";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeAddress(k, "deployer", deployer);
        vm.serializeAddress(k, "owner", handler.owner());
        vm.serializeAddress(k, "pendingOwner", handler.pendingOwner());
        vm.serializeAddress(k, "axelarGateway", address(handler.gateway()));
        vm.serializeString(k, "sourceChain", sourceChain);
        vm.serializeAddress(k, "sourceAddress", sourceAddress);
        _write("instruction-handler", vm.serializeAddress(k, "instructionHandler", address(handler)));
    }

    function deploy(
        uint256 key,
        address gateway,
        address owner,
        string memory sourceChain,
        address sourceAddress
    ) public returns (EscrowInstructionHandler handler) {
        _checkChain();
        address deployer = vm.addr(key);
        vm.startBroadcast(key);
        handler = new EscrowInstructionHandler(gateway, deployer);
        if (bytes(sourceChain).length != 0 || sourceAddress != address(0)) {
            handler.setSource(sourceChain, sourceAddress, true);
        }
        if (owner != deployer) handler.transferOwnership(owner);
        vm.stopBroadcast();
    }
}

/// @notice Local anvil only (chain 31337): both sides on one chain with the Axelar test doubles, the
///         sender allowlisted on the handler, owners = the deployer. Writes `31337-crosschain.json`.
///         A local "relay" is: `approveContractCall` on the gateway double (the deployer is its operator),
///         then `execute` on the handler; ci.sh does exactly that.
/// @dev Environment: DEPLOYER_PRIVATE_KEY (required), DEPLOYMENTS_DIR (optional).
contract DeployLocalCrossChain is CrossChainScript {
    string public constant SOURCE_CHAIN = "local-source";
    string public constant DESTINATION_CHAIN = "local-escrow";

    function run() external {
        if (block.chainid != 31337) revert UnsupportedChain(block.chainid);
        uint256 key = vm.envUint("DEPLOYER_PRIVATE_KEY");
        address deployer = vm.addr(key);
        vm.startBroadcast(key);
        AxelarGatewayDouble gateway = new AxelarGatewayDouble();
        AxelarGasServiceDouble gasService = new AxelarGasServiceDouble();
        EscrowInstructionSender sender =
            new EscrowInstructionSender(address(gateway), address(gasService), deployer);
        EscrowInstructionHandler handler = new EscrowInstructionHandler(address(gateway), deployer);
        handler.setSource(SOURCE_CHAIN, address(sender), true);
        vm.stopBroadcast();

        string memory k = "local";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeAddress(k, "deployer", deployer);
        vm.serializeAddress(k, "axelarGateway", address(gateway));
        vm.serializeAddress(k, "axelarGasService", address(gasService));
        vm.serializeString(k, "sourceChain", SOURCE_CHAIN);
        vm.serializeString(k, "destinationChain", DESTINATION_CHAIN);
        vm.serializeAddress(k, "instructionSender", address(sender));
        _write("crosschain", vm.serializeAddress(k, "instructionHandler", address(handler)));
    }
}
