// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {IEscrow} from "../../src/interfaces/IEscrow.sol";
import {EscrowHandler} from "./EscrowHandler.sol";

/// @notice System invariants over random sequences of creations, votes, settlements, withdrawals,
///         time jumps and a payee that toggles between accepting and rejecting ETH.
contract EscrowInvariantTest is Test {
    EscrowFactory internal factory;
    EscrowHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        factory = new EscrowFactory();
        handler = new EscrowHandler(factory);
        targetContract(address(handler));
    }

    /// @notice Funds are conserved: each escrow holds its amount while Funded or while a payment is
    ///         pending, and nothing otherwise; in total, held = deposited - paid out.
    function invariant_fundsConserved() public view {
        uint256[3] memory held;
        uint256 n = handler.escrowCount();
        for (uint256 i; i < n; ++i) {
            Escrow e = handler.escrows(i);
            EscrowHandler.Model memory m = handler.model(address(e));
            uint256 balance = handler.balanceOf(m.asset, address(e));
            bool holds = e.status() == IEscrow.Status.Funded || m.pending;
            assertEq(balance, holds ? e.amount() : 0, "escrow balance");
            held[m.asset] += balance;
        }
        for (uint256 a; a < 3; ++a) {
            assertEq(held[a], handler.deposited(a) - handler.paidOut(a), "held = deposited - paid");
        }
    }

    /// @notice Total paid out never exceeds what was deposited, and recipients never get more
    ///         than what left the escrows.
    function invariant_paidOutAtMostDeposited() public view {
        for (uint256 a; a < 3; ++a) {
            assertLe(handler.paidOut(a), handler.deposited(a));
            assertLe(handler.received(a), handler.paidOut(a));
        }
        assertEq(handler.strayPayments(), 0, "paid someone other than the recipient");
    }

    /// @notice The contract behaves as the model says; terminal states never change.
    function invariant_matchesModel_noStateAfterTerminal() public view {
        assertEq(handler.mismatches(), 0, "contract and model disagree");
        uint256 n = handler.escrowCount();
        for (uint256 i; i < n; ++i) {
            Escrow e = handler.escrows(i);
            EscrowHandler.Model memory m = handler.model(address(e));
            assertEq(uint8(e.status()), uint8(m.status), "status");
            (address recipient, uint256 pending) = e.pendingWithdrawal();
            assertEq(pending != 0, m.pending, "pending payment");
            if (m.pending) {
                assertEq(recipient, m.status == IEscrow.Status.Released ? m.payee : m.payer);
            }
        }
    }

    /// @notice Event numbers: consecutive per escrow from 1, and eventCount() = the last one seen.
    function invariant_eventNumbersContiguous() public view {
        assertEq(handler.seqViolations(), 0, "gap or repeat in event numbers");
        uint256 n = handler.escrowCount();
        for (uint256 i; i < n; ++i) {
            Escrow e = handler.escrows(i);
            assertEq(e.eventCount(), handler.model(address(e)).lastSeq);
        }
    }

    function afterInvariant() external {
        emit log_named_uint("create", handler.calls("create"));
        emit log_named_uint("vote", handler.calls("vote"));
        emit log_named_uint("release", handler.calls("release"));
        emit log_named_uint("refund", handler.calls("refund"));
        emit log_named_uint("emergencyRefund", handler.calls("emergencyRefund"));
        emit log_named_uint("arbiter", handler.calls("arbiter"));
        emit log_named_uint("withdraw", handler.calls("withdraw"));
    }
}
