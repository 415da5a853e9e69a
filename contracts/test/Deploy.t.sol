// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {EscrowFactory} from "../src/EscrowFactory.sol";
import {Deploy} from "../script/Deploy.s.sol";

contract DeployTest is Test {
    Deploy internal script;

    function setUp() public {
        script = new Deploy();
    }

    function test_supportedChains() public view {
        assertTrue(script.isSupported(31337));
        assertTrue(script.isSupported(11155111));
        assertTrue(script.isSupported(80002));
        assertFalse(script.isSupported(1));
        assertFalse(script.isSupported(137));
    }

    function test_run_revertsOnUnsupportedChain() public {
        vm.chainId(1);
        vm.expectRevert(abi.encodeWithSelector(Deploy.UnsupportedChain.selector, 1));
        script.run();
    }

    function test_run_deploysAndWritesRecord() public {
        uint256 key = 0xA11CE;
        vm.setEnv("DEPLOYER_PRIVATE_KEY", vm.toString(key));
        vm.setEnv("DEPLOYMENTS_DIR", "cache/deploy-test");
        vm.chainId(80002);
        EscrowFactory factory = script.run();
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/cache/deploy-test/80002.json"));
        assertEq(vm.parseJsonUint(json, ".chainId"), 80002);
        assertEq(vm.parseJsonAddress(json, ".deployer"), vm.addr(key));
        assertEq(vm.parseJsonAddress(json, ".escrowFactory"), address(factory));
        assertEq(vm.parseJsonAddress(json, ".escrowImplementation"), factory.implementation());
        assertGt(factory.implementation().code.length, 0);
    }
}
