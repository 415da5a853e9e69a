// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {Escrow} from "../src/Escrow.sol";
import {IEscrow} from "../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../src/interfaces/IEscrowFactory.sol";
import {EscrowTestBase} from "./utils/EscrowTestBase.sol";
import {
    FalseReturningToken,
    FeeOnTransferToken,
    GasBurner,
    NoBoolToken,
    ReentrantReceiver,
    ReturnBomb,
    RevertingReceiver
} from "./utils/Mocks.sol";

/// @notice Hostile recipients, callers and tokens.
contract EscrowAdversarialTest is EscrowTestBase {
    function _createFor(address payee_, address token, uint256 amount) internal returns (Escrow) {
        IEscrowFactory.EscrowParams memory p = _params(token);
        p.payee = payee_;
        return _create(p, amount);
    }

    function _releaseNow(Escrow e) internal {
        _approveN(e, 2);
        vm.warp(e.releaseTime());
        e.release();
    }

    // ------------------------------------------------------------ reverting recipients

    /// @notice Rule: a payment never gets stuck behind a recipient that reverts.
    function test_revertingPayee_paymentDeferredThenWithdrawn() public {
        RevertingReceiver r = new RevertingReceiver();
        Escrow e = _createFor(address(r), address(0), AMOUNT);
        _approveN(e, 2);
        vm.warp(e.releaseTime());
        vm.expectEmit(address(e));
        emit IEscrow.Released(4, address(r), AMOUNT, false);
        e.release();

        assertEq(uint8(e.status()), uint8(IEscrow.Status.Released), "settled despite the revert");
        assertEq(address(e).balance, AMOUNT, "amount held for withdrawal");
        (address recipient, uint256 pending) = e.pendingWithdrawal();
        assertEq(recipient, address(r));
        assertEq(pending, AMOUNT);

        vm.expectRevert(IEscrow.TransferFailed.selector);
        e.withdraw();

        r.setRejecting(false);
        vm.expectEmit(address(e));
        emit IEscrow.Withdrawn(5, address(r), AMOUNT);
        vm.prank(stranger); // anyone may push the pending payment; it can only go to the payee
        e.withdraw();
        assertEq(address(r).balance, AMOUNT);
        assertEq(address(e).balance, 0);
        assertEq(stranger.balance, 0);
        vm.expectRevert(IEscrow.NothingToWithdraw.selector);
        e.withdraw();
    }

    function test_revertingPayer_refundDeferredThenWithdrawn() public {
        RevertingReceiver r = new RevertingReceiver();
        vm.deal(address(r), AMOUNT);
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        vm.prank(address(r));
        Escrow e = Escrow(factory.createEscrow{value: AMOUNT}(p, AMOUNT));
        vm.warp(e.deadline());
        vm.expectEmit(address(e));
        emit IEscrow.Refunded(2, address(r), AMOUNT, false);
        e.refund();
        (address recipient, uint256 pending) = e.pendingWithdrawal();
        assertEq(recipient, address(r));
        assertEq(pending, AMOUNT);
        r.setRejecting(false);
        e.withdraw();
        assertEq(address(r).balance, AMOUNT);
    }

    function test_revertingPayee_arbiterAndEmergencyStillWork() public {
        RevertingReceiver r = new RevertingReceiver();
        Escrow e = _createFor(address(r), address(0), AMOUNT);
        vm.prank(arbiter);
        vm.expectEmit(address(e));
        emit IEscrow.ArbiterDecided(2, arbiter, true, address(r), AMOUNT, false);
        e.arbiterDecide(true);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Released));
    }

    function test_gasBurningPayee_deferred_andOnlyHurtsItself() public {
        GasBurner g = new GasBurner();
        Escrow e = _createFor(address(g), address(0), AMOUNT);
        _approveN(e, 2);
        vm.warp(e.releaseTime());
        e.release{gas: 1_000_000}();
        (address recipient, uint256 pending) = e.pendingWithdrawal();
        assertEq(recipient, address(g));
        assertEq(pending, AMOUNT);
        vm.expectRevert(IEscrow.TransferFailed.selector);
        e.withdraw{gas: 1_000_000}();
        assertEq(address(e).balance, AMOUNT);
    }

    function test_returnDataBomb_doesNotBlockSettlement() public {
        ReturnBomb b = new ReturnBomb();
        Escrow e = _createFor(address(b), address(0), AMOUNT);
        _approveN(e, 2);
        vm.warp(e.releaseTime());
        e.release{gas: 300_000}();
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Released));
        (, uint256 pending) = e.pendingWithdrawal();
        assertEq(pending, AMOUNT);
    }

    /// @notice A caller cannot starve the recipient of gas to force a deferred payment.
    function test_lowGasCaller_cannotForceDeferral() public {
        RevertingReceiver r = new RevertingReceiver();
        r.setRejecting(false);
        Escrow e = _createFor(address(r), address(0), AMOUNT);
        _approveN(e, 2);
        vm.warp(e.releaseTime());
        vm.expectRevert(IEscrow.InsufficientGas.selector);
        e.release{gas: 110_000}();
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Funded), "nothing happened");
        e.release();
        assertEq(address(r).balance, AMOUNT);
    }

    // ------------------------------------------------------------ re-entrancy

    function _reentrantPayeeEscrow(ReentrantReceiver.Attack attack)
        internal
        returns (Escrow e, ReentrantReceiver r)
    {
        r = new ReentrantReceiver();
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.payee = address(r);
        p.arbiter = address(r);
        p.approvers[2] = address(r);
        p.settlementRef = keccak256(abi.encode(attack));
        e = _create(p, AMOUNT);
        r.arm(e, attack);
    }

    /// @notice Rule: re-entrancy safe — a payee re-entering from its receive hook gets nothing.
    function test_reentrantPayee_everyEntryPointBlocked() public {
        for (uint256 k = 1; k <= uint256(ReentrantReceiver.Attack.Approve); ++k) {
            vm.warp(START);
            (Escrow e, ReentrantReceiver r) = _reentrantPayeeEscrow(ReentrantReceiver.Attack(k));
            _approve(e, a1);
            r.callApprove(e);
            vm.warp(e.releaseTime());
            e.release();
            assertTrue(r.attempted(), "the payee tried to re-enter");
            assertFalse(r.reentered(), "and failed");
            assertEq(
                r.revertData(),
                abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
            );
            assertEq(address(r).balance, AMOUNT, "paid exactly once");
            assertEq(address(e).balance, 0);
            assertEq(e.eventCount(), 4);
        }
    }

    function test_reentrantPayee_viaArbiterDecision() public {
        (Escrow e, ReentrantReceiver r) = _reentrantPayeeEscrow(ReentrantReceiver.Attack.Withdraw);
        r.callArbiterDecide(e, true);
        assertTrue(r.attempted());
        assertFalse(r.reentered());
        assertEq(address(r).balance, AMOUNT);
    }

    function test_reentrantPayee_duringWithdraw() public {
        (Escrow e, ReentrantReceiver r) = _reentrantPayeeEscrow(ReentrantReceiver.Attack.Withdraw);
        r.setRejecting(true);
        _approve(e, a1);
        r.callApprove(e);
        vm.warp(e.releaseTime());
        e.release();
        (, uint256 pending) = e.pendingWithdrawal();
        assertEq(pending, AMOUNT, "deferred while the payee rejected");
        r.setRejecting(false);
        e.withdraw(); // the payee re-enters withdraw() from its receive hook
        assertTrue(r.attempted());
        assertFalse(r.reentered());
        assertEq(
            r.revertData(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
        );
        assertEq(address(r).balance, AMOUNT, "paid exactly once");
        assertEq(address(e).balance, 0);
        vm.expectRevert(IEscrow.NothingToWithdraw.selector);
        r.callWithdraw(e);
    }

    // ------------------------------------------------------------ tokens

    /// @notice Rule: fee-on-transfer tokens cannot break the accounting.
    function test_feeOnTransfer_releaseAndRefundConserveBalances() public {
        FeeOnTransferToken fee = new FeeOnTransferToken(250); // 2.5 %
        fee.mint(payer, 1_000 ether);
        vm.prank(payer);
        fee.approve(address(factory), type(uint256).max);

        Escrow e = _create(_params(address(fee)), 100 ether);
        assertEq(e.amount(), 97.5 ether);
        assertEq(fee.balanceOf(address(e)), e.amount());
        _releaseNow(e);
        assertEq(fee.balanceOf(address(e)), 0, "escrow paid out exactly what it was credited");
        assertEq(fee.balanceOf(payee), 97.5 ether - 97.5 ether * 250 / 10_000);

        IEscrowFactory.EscrowParams memory p = _params(address(fee));
        p.settlementRef = keccak256("refund");
        Escrow r = _create(p, 10 ether);
        vm.warp(r.deadline());
        r.refund();
        assertEq(fee.balanceOf(address(r)), 0);
    }

    /// @notice Rule: a token that returns no bool (USDT style) works for deposit, payout and deferral.
    function test_noBoolToken_fullLifecycle() public {
        NoBoolToken t = new NoBoolToken();
        t.mint(payer, 1_000e6);
        vm.prank(payer);
        t.approve(address(factory), type(uint256).max);

        Escrow e = _create(_params(address(t)), 400e6);
        assertEq(t.balanceOf(address(e)), 400e6);
        assertEq(e.amount(), 400e6);

        t.setBlocked(payee, true); // e.g. a blocklisted payee: transfer reverts
        _releaseNow(e);
        (address recipient, uint256 pending) = e.pendingWithdrawal();
        assertEq(recipient, payee);
        assertEq(pending, 400e6);
        assertEq(t.balanceOf(address(e)), 400e6);
        vm.expectRevert(IEscrow.TransferFailed.selector);
        e.withdraw();
        t.setBlocked(payee, false);
        e.withdraw();
        assertEq(t.balanceOf(payee), 400e6);
        assertEq(t.balanceOf(address(e)), 0);
    }

    function test_noBoolToken_insufficientAllowanceReverts() public {
        NoBoolToken t = new NoBoolToken();
        t.mint(payer, 1_000e6);
        vm.prank(payer);
        vm.expectRevert();
        factory.createEscrow(_params(address(t)), 400e6);
    }

    function test_falseReturningToken_deferredPayment() public {
        FalseReturningToken t = new FalseReturningToken();
        t.mint(payer, 10 ether);
        vm.prank(payer);
        t.approve(address(factory), type(uint256).max);
        Escrow e = _create(_params(address(t)), 10 ether);
        t.setBlocked(payer, true);
        vm.warp(e.deadline());
        vm.expectEmit(address(e));
        emit IEscrow.Refunded(2, payer, 10 ether, false);
        e.refund();
        t.setBlocked(payer, false);
        e.withdraw();
        assertEq(t.balanceOf(payer), 10 ether);
    }

    /// @notice Rule: funds go only to the payer or the payee, whoever triggers the payout.
    function test_onlyPayerOrPayeeEverReceive() public {
        Escrow e = _createEth();
        address[5] memory callers = [stranger, a1, a2, arbiter, address(factory)];
        for (uint256 i; i < callers.length; ++i) {
            vm.startPrank(callers[i]);
            vm.expectRevert();
            e.release();
            vm.expectRevert();
            e.refund();
            vm.expectRevert();
            e.emergencyRefund();
            vm.expectRevert();
            e.withdraw();
            vm.stopPrank();
        }
        _voteEmergency(e, 2);
        vm.prank(stranger);
        e.emergencyRefund();
        for (uint256 i; i < callers.length; ++i) {
            assertEq(callers[i].balance, 0);
        }
        assertEq(payer.balance, 1_000 ether);
    }
}
