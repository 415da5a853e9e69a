// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {Escrow} from "../src/Escrow.sol";
import {IEscrowFactory} from "../src/interfaces/IEscrowFactory.sol";
import {EscrowTestBase} from "./utils/EscrowTestBase.sol";

/// @notice Gas benchmarks and the creation gas budget.
/// @dev Each benchmark performs one operation and records it with a gas snapshot cheatcode into
///      `snapshots/EscrowGasTest.json` (committed; ci.sh runs with FORGE_SNAPSHOT_CHECK=true so any
///      change fails). The test functions themselves are also in `.gas-snapshot`
///      (`forge snapshot --check --match-contract EscrowGasTest`).
///      Transaction gas = execution gas of the call + intrinsic gas (21,000 + 16 per non-zero and
///      4 per zero calldata byte); this equals what `forge test --isolate` and anvil report.
contract EscrowGasTest is EscrowTestBase {
    uint256 internal constant BUDGET = 200_000;
    uint256 internal constant TARGET = 160_000;

    Escrow internal funded;

    function setUp() public override {
        super.setUp();
        funded = _createEth();
    }

    function _intrinsic(bytes memory callData) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < callData.length; ++i) {
            gas += callData[i] == 0 ? 4 : 16;
        }
    }

    function _txGas(bytes memory callData) internal view returns (uint256) {
        Vm.Gas memory g = vm.lastCallGas();
        return g.gasTotalUsed + _intrinsic(callData);
    }

    /// @notice Rule: creating a funded ETH escrow with 3 approvers costs <= 200k gas (target < 160k).
    function test_gas_createEscrow_eth_3approvers() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.settlementRef = keccak256("gas");
        vm.prank(payer);
        factory.createEscrow{value: AMOUNT}(p, AMOUNT);
        uint256 txGas = _txGas(abi.encodeCall(IEscrowFactory.createEscrow, (p, AMOUNT)));
        vm.snapshotValue("createEscrow_eth_3approvers_txGas", txGas);
        emit log_named_uint("createEscrow ETH, 3 approvers: transaction gas", txGas);
        assertLe(txGas, BUDGET, "over the 200k budget");
        assertLt(txGas, TARGET, "over the 160k target");
    }

    function test_gas_createEscrow_eth_16approvers() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = new address[](16);
        for (uint256 i; i < 16; ++i) {
            p.approvers[i] = address(uint160(0x1000 + i));
        }
        p.threshold = 9;
        vm.prank(payer);
        factory.createEscrow{value: AMOUNT}(p, AMOUNT);
        uint256 txGas = _txGas(abi.encodeCall(IEscrowFactory.createEscrow, (p, AMOUNT)));
        vm.snapshotValue("createEscrow_eth_16approvers_txGas", txGas);
        assertLe(txGas, BUDGET + 100_000);
    }

    function test_gas_createEscrow_erc20_3approvers() public {
        IEscrowFactory.EscrowParams memory p = _params(address(usd));
        vm.prank(payer);
        factory.createEscrow(p, 1_000e6);
        uint256 txGas = _txGas(abi.encodeCall(IEscrowFactory.createEscrow, (p, 1_000e6)));
        vm.snapshotValue("createEscrow_erc20_3approvers_txGas", txGas);
    }

    function test_gas_approve() public {
        vm.prank(a1);
        funded.approve();
        vm.snapshotGasLastCall("approve");
    }

    function test_gas_release_eth() public {
        _approveN(funded, 2);
        vm.warp(block.timestamp + RELEASE_DELAY);
        funded.release();
        vm.snapshotGasLastCall("release_eth");
    }

    function test_gas_refund_eth() public {
        vm.warp(block.timestamp + DEADLINE_DELAY);
        funded.refund();
        vm.snapshotGasLastCall("refund_eth");
    }
}
