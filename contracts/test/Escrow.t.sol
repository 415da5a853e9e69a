// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {Escrow} from "../src/Escrow.sol";
import {IEscrow} from "../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../src/interfaces/IEscrowFactory.sol";
import {EscrowTestBase} from "./utils/EscrowTestBase.sol";

/// @notice Every path and every revert of one escrow's lifecycle.
contract EscrowTest is EscrowTestBase {
    Escrow internal e;

    function setUp() public override {
        super.setUp();
        e = _createEth();
    }

    function _toRelease() internal {
        vm.warp(e.releaseTime());
    }

    function _toDeadline() internal {
        vm.warp(e.deadline());
    }

    // ------------------------------------------------------------ approvals

    function test_approve_recordsAndEmits() public {
        vm.expectEmit(address(e));
        emit IEscrow.Approved(2, a1, 1);
        _approve(e, a1);
        vm.expectEmit(address(e));
        emit IEscrow.Approved(3, a3, 2);
        _approve(e, a3);
        assertTrue(e.hasApproved(a1));
        assertFalse(e.hasApproved(a2));
        assertTrue(e.hasApproved(a3));
        assertFalse(e.hasApproved(stranger));
        assertEq(e.approvalCount(), 2);
        assertEq(e.eventCount(), 3);
    }

    function test_approve_revert_notApprover() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApprover.selector, stranger));
        e.approve();
        vm.prank(payee);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApprover.selector, payee));
        e.approve();
    }

    function test_approve_revert_twice() public {
        _approve(e, a1);
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.AlreadyApproved.selector, a1));
        e.approve();
    }

    function test_revokeApproval_recordsAndEmits() public {
        _approve(e, a1);
        _approve(e, a2);
        vm.expectEmit(address(e));
        emit IEscrow.ApprovalRevoked(4, a1, 1);
        vm.prank(a1);
        e.revokeApproval();
        assertFalse(e.hasApproved(a1));
        assertEq(e.approvalCount(), 1);
        // an approver may approve again after revoking
        _approve(e, a1);
        assertEq(e.approvalCount(), 2);
    }

    function test_revokeApproval_revert_notApproved() public {
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApproved.selector, a1));
        e.revokeApproval();
    }

    function test_revokeApproval_revert_notApprover() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApprover.selector, stranger));
        e.revokeApproval();
    }

    /// @notice Rule: approvals can be revoked before release — and a revoked approval no longer counts.
    function test_revokedApproval_blocksRelease() public {
        _approveN(e, 2);
        vm.prank(a2);
        e.revokeApproval();
        _toRelease();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, 1, 2));
        e.release();
    }

    // ------------------------------------------------------------ release

    function test_release_paysPayee() public {
        _approveN(e, 2);
        _toRelease();
        vm.expectEmit(address(e));
        emit IEscrow.Released(4, payee, AMOUNT, true);
        vm.prank(stranger); // anyone may trigger a release that is due
        e.release();
        assertEq(payee.balance, AMOUNT);
        assertEq(address(e).balance, 0);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Released));
        assertEq(e.eventCount(), 4);
        (address recipient, uint256 pending) = e.pendingWithdrawal();
        assertEq(recipient, address(0));
        assertEq(pending, 0);
    }

    function test_release_erc20() public {
        Escrow t = _createToken();
        _approveN(t, 3);
        vm.warp(t.releaseTime());
        t.release();
        assertEq(usd.balanceOf(payee), 1_000e6);
        assertEq(usd.balanceOf(address(t)), 0);
    }

    /// @notice Rule: release needs M approvals.
    function test_release_revert_insufficientApprovals() public {
        _approve(e, a1);
        _toRelease();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, 1, 2));
        e.release();
    }

    /// @notice Rule: release needs the timelock to have passed (boundary: exactly releaseTime works).
    function test_release_revert_timelock() public {
        _approveN(e, 3);
        vm.warp(e.releaseTime() - 1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.ReleaseTimelockActive.selector, e.releaseTime()));
        e.release();
        vm.warp(e.releaseTime());
        e.release();
        assertEq(payee.balance, AMOUNT);
    }

    function test_release_revert_atOrAfterDeadline() public {
        _approveN(e, 2);
        _toDeadline();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.DeadlinePassed.selector, e.deadline()));
        e.release();
    }

    function test_release_emergencyVotesDoNotCount() public {
        _voteEmergency(e, 3);
        _toRelease();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, 0, 2));
        e.release();
    }

    /// @notice Rule: no way to pay twice.
    function test_release_revert_twice() public {
        _approveN(e, 2);
        _toRelease();
        e.release();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotFunded.selector, IEscrow.Status.Released));
        e.release();
    }

    // ------------------------------------------------------------ refund

    function test_refund_afterDeadline_paysPayer() public {
        uint256 before = payer.balance;
        _toDeadline();
        vm.expectEmit(address(e));
        emit IEscrow.Refunded(2, payer, AMOUNT, true);
        vm.prank(stranger);
        e.refund();
        assertEq(payer.balance, before + AMOUNT);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
    }

    function test_refund_evenWithApprovals() public {
        _approveN(e, 3);
        _toDeadline();
        e.refund();
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
    }

    function test_refund_revert_beforeDeadline() public {
        vm.warp(e.deadline() - 1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.DeadlineNotReached.selector, e.deadline()));
        e.refund();
    }

    function test_refund_revert_afterRelease() public {
        _approveN(e, 2);
        _toRelease();
        e.release();
        _toDeadline();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotFunded.selector, IEscrow.Status.Released));
        e.refund();
    }

    function test_refund_revert_twice() public {
        _toDeadline();
        e.refund();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotFunded.selector, IEscrow.Status.Refunded));
        e.refund();
    }

    function test_refund_erc20() public {
        Escrow t = _createToken();
        uint256 before = usd.balanceOf(payer);
        vm.warp(t.deadline());
        t.refund();
        assertEq(usd.balanceOf(payer), before + 1_000e6);
    }

    // ------------------------------------------------------------ emergency refund

    function test_emergencyRefund_anyTime_paysPayerOnly() public {
        uint256 before = payer.balance;
        vm.expectEmit(address(e));
        emit IEscrow.EmergencyRefundApproved(2, a2, 1);
        vm.prank(a2);
        e.approveEmergencyRefund();
        vm.prank(a3);
        e.approveEmergencyRefund();
        assertTrue(e.hasApprovedEmergencyRefund(a2));
        assertFalse(e.hasApprovedEmergencyRefund(a1));
        assertEq(e.emergencyApprovalCount(), 2);
        vm.expectEmit(address(e));
        emit IEscrow.EmergencyRefunded(4, payer, AMOUNT, true);
        vm.prank(a2); // called by an approver, still paid to the payer
        e.emergencyRefund();
        assertEq(payer.balance, before + AMOUNT);
        assertEq(a2.balance, 0);
        assertEq(payee.balance, 0);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
    }

    function test_emergencyRefund_afterReleaseApprovalsAndAfterDeadline() public {
        _approveN(e, 3);
        _voteEmergency(e, 2);
        vm.warp(e.deadline() + 365 days);
        e.emergencyRefund();
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
    }

    function test_emergencyRefund_revert_insufficientVotes() public {
        _voteEmergency(e, 1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, 1, 2));
        e.emergencyRefund();
    }

    function test_emergencyRefund_releaseApprovalsDoNotCount() public {
        _approveN(e, 3);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, 0, 2));
        e.emergencyRefund();
    }

    function test_emergencyVote_revoke() public {
        _voteEmergency(e, 2);
        vm.expectEmit(address(e));
        emit IEscrow.EmergencyRefundApprovalRevoked(4, a1, 1);
        vm.prank(a1);
        e.revokeEmergencyRefundApproval();
        assertFalse(e.hasApprovedEmergencyRefund(a1));
        vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, 1, 2));
        e.emergencyRefund();
    }

    function test_emergencyVote_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApprover.selector, stranger));
        e.approveEmergencyRefund();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApprover.selector, stranger));
        e.revokeEmergencyRefundApproval();
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotApproved.selector, a1));
        e.revokeEmergencyRefundApproval();
        vm.prank(a1);
        e.approveEmergencyRefund();
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.AlreadyApproved.selector, a1));
        e.approveEmergencyRefund();
    }

    // ------------------------------------------------------------ arbiter

    function test_arbiter_release_ignoresApprovalsAndTimelock() public {
        vm.expectEmit(address(e));
        emit IEscrow.ArbiterDecided(2, arbiter, true, payee, AMOUNT, true);
        vm.prank(arbiter);
        e.arbiterDecide(true);
        assertEq(payee.balance, AMOUNT);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Released));
    }

    function test_arbiter_refund() public {
        uint256 before = payer.balance;
        _approveN(e, 3);
        _toRelease();
        vm.expectEmit(address(e));
        emit IEscrow.ArbiterDecided(5, arbiter, false, payer, AMOUNT, true);
        vm.prank(arbiter);
        e.arbiterDecide(false);
        assertEq(payer.balance, before + AMOUNT);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
    }

    function test_arbiter_lastMomentBeforeDeadline() public {
        vm.warp(e.deadline() - 1);
        vm.prank(arbiter);
        e.arbiterDecide(true);
        assertEq(payee.balance, AMOUNT);
    }

    function test_arbiter_revert_atDeadline() public {
        _toDeadline();
        uint256 deadline = e.deadline();
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.DeadlinePassed.selector, deadline));
        e.arbiterDecide(true);
    }

    function test_arbiter_revert_notArbiter() public {
        address[4] memory others = [payer, payee, a1, stranger];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IEscrow.NotArbiter.selector, others[i]));
            e.arbiterDecide(i % 2 == 0);
        }
    }

    function test_arbiter_revert_noArbiterConfigured() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.arbiter = address(0);
        p.settlementRef = keccak256("no-arbiter");
        Escrow n = _create(p, AMOUNT);
        vm.prank(address(0));
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotArbiter.selector, address(0)));
        n.arbiterDecide(true);
    }

    function test_arbiter_revert_afterTerminal() public {
        _toDeadline();
        e.refund();
        vm.warp(START);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotFunded.selector, IEscrow.Status.Refunded));
        e.arbiterDecide(true);
    }

    // ------------------------------------------------------------ terminal states

    /// @notice Rule: explicit terminal states; nothing changes state after Released/Refunded.
    function test_terminal_everyMutationReverts() public {
        _approveN(e, 2);
        _toRelease();
        e.release();
        _assertAllMutationsRevert(e, IEscrow.Status.Released);

        Escrow r = _createToken();
        vm.warp(r.deadline());
        r.refund();
        _assertAllMutationsRevert(r, IEscrow.Status.Refunded);
    }

    function _assertAllMutationsRevert(Escrow x, IEscrow.Status s) internal {
        uint64 count = x.eventCount();
        bytes memory err = abi.encodeWithSelector(IEscrow.NotFunded.selector, s);
        vm.startPrank(a1);
        vm.expectRevert(err);
        x.approve();
        vm.expectRevert(err);
        x.revokeApproval();
        vm.expectRevert(err);
        x.approveEmergencyRefund();
        vm.expectRevert(err);
        x.revokeEmergencyRefundApproval();
        vm.stopPrank();
        vm.expectRevert(err);
        x.release();
        vm.expectRevert(err);
        x.refund();
        vm.expectRevert(err);
        x.emergencyRefund();
        vm.prank(arbiter);
        vm.expectRevert(err);
        x.arbiterDecide(true);
        vm.expectRevert(IEscrow.NothingToWithdraw.selector);
        x.withdraw();
        vm.prank(address(factory));
        vm.expectRevert(IEscrow.AlreadyInitialized.selector);
        x.initialize(1);
        assertEq(uint8(x.status()), uint8(s));
        assertEq(x.eventCount(), count);
    }

    function test_withdraw_revert_nothingPending() public {
        vm.expectRevert(IEscrow.NothingToWithdraw.selector);
        e.withdraw();
    }

    // ------------------------------------------------------------ event numbers

    /// @notice Rule: every event of an escrow carries its own strictly increasing event number,
    ///         starting at 1 with the deposit.
    function test_eventNumbers_contiguousFromDeposit() public {
        vm.recordLogs();
        Escrow x = _create(_withRef(keccak256("seq")), AMOUNT);
        _approve(x, a1);
        _approve(x, a2);
        vm.prank(a1);
        x.revokeApproval();
        vm.prank(a3);
        x.approveEmergencyRefund();
        vm.prank(a3);
        x.revokeEmergencyRefundApproval();
        _approve(x, a3);
        vm.warp(x.releaseTime());
        x.release();

        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint64 expected = 1;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(x)) continue;
            uint64 seq = abi.decode(logs[i].data, (uint64));
            assertEq(seq, expected, "event numbers are contiguous");
            ++expected;
        }
        assertEq(expected - 1, 8, "deposit + 6 votes/revocations + release");
        assertEq(x.eventCount(), 8);
        assertEq(logs[logs.length - 1].topics[0], IEscrow.Released.selector);
    }

    function _withRef(bytes32 ref) internal view returns (IEscrowFactory.EscrowParams memory p) {
        p = _params(address(0));
        p.settlementRef = ref;
    }
}
