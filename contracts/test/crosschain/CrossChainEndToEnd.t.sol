// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Escrow} from "../../src/Escrow.sol";
import {IEscrow} from "../../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../../src/interfaces/IEscrowFactory.sol";
import {IEscrowInstructionHandler} from "../../src/interfaces/IEscrowInstructionHandler.sol";
import {EscrowInstruction} from "../../src/libraries/EscrowInstruction.sol";
import {CrossChainTestBase} from "./CrossChainTestBase.sol";

/// @dev The treasury sends on the source side; the gateway doubles carry the messages as Axelar would;
///      the handler executes them on the escrow side.
contract CrossChainEndToEndTest is CrossChainTestBase {
    /// @dev Approve + Release from the treasury, one local approval, the release first fails on the
    ///      timelock, then anyone retries it: the escrow ends released to the payee.
    function test_endToEnd_approveAndRelease_afterTimelockRetry() public {
        Escrow escrow = _crossChainEscrow();
        _approve(escrow, a2); // an approver on the escrow chain

        _send(address(escrow), EscrowInstruction.Kind.Approve);
        _send(address(escrow), EscrowInstruction.Kind.Release);
        assertEq(gasService.paymentCount(), 2);
        assertEq(address(gasService).balance, 2 * GAS_FEE);

        _relay(0);
        assertEq(escrow.approvalCount(), 2);
        _relay(1);
        assertEq(
            uint8(handler.messageStatus(sourceKey, 2)), uint8(IEscrowInstructionHandler.MessageStatus.Failed)
        );

        vm.warp(escrow.releaseTime() + 1);
        uint256 before = payee.balance;
        vm.prank(stranger);
        handler.retry(sourceKey, 2);

        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Released));
        assertEq(payee.balance, before + AMOUNT);
        assertEq(address(escrow).balance, 0);
        assertEq(
            uint8(handler.messageStatus(sourceKey, 1)),
            uint8(IEscrowInstructionHandler.MessageStatus.Executed)
        );
        assertEq(
            uint8(handler.messageStatus(sourceKey, 2)),
            uint8(IEscrowInstructionHandler.MessageStatus.Executed)
        );
    }

    /// @dev The handler as arbiter: one message settles the escrow to the payee, before the timelock.
    function test_endToEnd_arbiterRelease() public {
        Escrow escrow = _crossChainEscrow();
        _send(address(escrow), EscrowInstruction.Kind.ArbiterRelease);
        uint256 before = payee.balance;
        (bytes32 commandId, string memory from, bytes memory payload) = _approveRelay(0);
        vm.expectEmit(address(escrow));
        emit IEscrow.ArbiterDecided(2, address(handler), true, payee, AMOUNT, true);
        handler.execute(commandId, SOURCE_CHAIN, from, payload);
        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Released));
        assertEq(payee.balance, before + AMOUNT);
    }

    /// @dev Emergency votes from two chains' worth of approvers, then the payer gets the refund.
    function test_endToEnd_emergencyRefundVote() public {
        Escrow escrow = _crossChainEscrow();
        _send(address(escrow), EscrowInstruction.Kind.ApproveEmergencyRefund);
        _relay(0);
        vm.prank(a3);
        escrow.approveEmergencyRefund();
        uint256 before = payer.balance;
        escrow.emergencyRefund();
        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Refunded));
        assertEq(payer.balance, before + AMOUNT);
    }

    /// @dev ERC-20 escrow, arbiter refund to the payer.
    function test_endToEnd_arbiterRefund_erc20() public {
        Escrow escrow = _crossChainEscrowToken();
        uint256 before = usd.balanceOf(payer);
        _send(address(escrow), EscrowInstruction.Kind.ArbiterRefund);
        _relay(0);
        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Refunded));
        assertEq(usd.balanceOf(payer), before + 1_000e6);
    }

    function _crossChainEscrowToken() internal returns (Escrow) {
        IEscrowFactory.EscrowParams memory p = _params(address(usd));
        p.approvers[0] = address(handler);
        p.arbiter = address(handler);
        return _create(p, 1_000e6);
    }
}
