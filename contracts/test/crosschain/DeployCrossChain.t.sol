// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {EscrowInstructionHandler} from "../../src/EscrowInstructionHandler.sol";
import {EscrowInstructionSender} from "../../src/EscrowInstructionSender.sol";
import {
    CrossChainScript,
    DeployInstructionHandler,
    DeployInstructionSender
} from "../../script/DeployCrossChain.s.sol";
import {AxelarGasServiceDouble, AxelarGatewayDouble} from "../doubles/AxelarDoubles.sol";

contract DeployCrossChainTest is Test {
    // Same key and folder as DeployTest: forge runs suites in parallel and the environment is shared.
    uint256 internal constant KEY = 0xA11CE;
    string internal constant DIR = "cache/deploy-test";

    AxelarGatewayDouble internal gateway;
    AxelarGasServiceDouble internal gasService;
    address internal treasury = makeAddr("treasury");
    address internal senderOnAmoy = makeAddr("senderOnAmoy");

    function setUp() public {
        gateway = new AxelarGatewayDouble();
        gasService = new AxelarGasServiceDouble();
    }

    function test_sender_deploy() public {
        vm.chainId(80002);
        EscrowInstructionSender sender =
            new DeployInstructionSender().deploy(KEY, address(gateway), address(gasService), treasury);
        assertEq(sender.owner(), treasury);
        assertEq(address(sender.gateway()), address(gateway));
        assertEq(address(sender.gasService()), address(gasService));
    }

    function test_handler_deploy_allowlistsAndOffersOwnership() public {
        vm.chainId(11155111);
        EscrowInstructionHandler handler = new DeployInstructionHandler()
            .deploy(KEY, address(gateway), treasury, "polygon-sepolia", senderOnAmoy);
        assertTrue(handler.isSourceAllowed(handler.sourceKeyOf("polygon-sepolia", senderOnAmoy)));
        assertEq(handler.owner(), vm.addr(KEY), "until the owner accepts");
        assertEq(handler.pendingOwner(), treasury);
        assertEq(address(handler.gateway()), address(gateway));
    }

    function test_unsupportedChain_reverts() public {
        vm.chainId(1);
        DeployInstructionSender s = new DeployInstructionSender();
        vm.expectRevert(abi.encodeWithSelector(CrossChainScript.UnsupportedChain.selector, 1));
        s.deploy(KEY, address(gateway), address(gasService), treasury);
        DeployInstructionHandler h = new DeployInstructionHandler();
        vm.expectRevert(abi.encodeWithSelector(CrossChainScript.UnsupportedChain.selector, 1));
        h.deploy(KEY, address(gateway), treasury, "", address(0));
    }

    /// @dev The env-driven entry points and their records (one test: the environment is process-wide).
    function test_run_fromEnvironment_writesRecords() public {
        vm.setEnv("DEPLOYER_PRIVATE_KEY", vm.toString(KEY));
        vm.setEnv("DEPLOYMENTS_DIR", DIR);
        vm.setEnv("AXELAR_GATEWAY", vm.toString(address(gateway)));
        vm.setEnv("AXELAR_GAS_SERVICE", vm.toString(address(gasService)));
        vm.setEnv("SENDER_OWNER", vm.toString(treasury));
        vm.setEnv("HANDLER_SOURCE_CHAIN", "polygon-sepolia");
        vm.setEnv("HANDLER_SOURCE_ADDRESS", vm.toString(senderOnAmoy));

        vm.chainId(80002);
        EscrowInstructionSender sender = new DeployInstructionSender().run();
        string memory json =
            vm.readFile(string.concat(vm.projectRoot(), "/", DIR, "/80002-instruction-sender.json"));
        assertEq(vm.parseJsonAddress(json, ".instructionSender"), address(sender));
        assertEq(vm.parseJsonAddress(json, ".owner"), treasury);
        assertEq(vm.parseJsonAddress(json, ".axelarGasService"), address(gasService));

        vm.chainId(11155111);
        EscrowInstructionHandler handler = new DeployInstructionHandler().run();
        json = vm.readFile(string.concat(vm.projectRoot(), "/", DIR, "/11155111-instruction-handler.json"));
        assertEq(vm.parseJsonAddress(json, ".instructionHandler"), address(handler));
        assertEq(vm.parseJsonAddress(json, ".owner"), vm.addr(KEY), "HANDLER_OWNER unset: the deployer");
        assertEq(vm.parseJsonString(json, ".sourceChain"), "polygon-sepolia");
        assertTrue(handler.isSourceAllowed(handler.sourceKeyOf("polygon-sepolia", senderOnAmoy)));
    }
}
