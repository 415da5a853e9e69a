// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Escrow} from "../src/Escrow.sol";
import {IEscrow} from "../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../src/interfaces/IEscrowFactory.sol";
import {EscrowTestBase} from "./utils/EscrowTestBase.sol";
import {FeeOnTransferToken} from "./utils/Mocks.sol";

/// @notice Property tests over amounts, thresholds, timestamps and approver sets.
contract EscrowFuzzTest is EscrowTestBase {
    function _approverSet(uint256 n, uint256 salt) internal pure returns (address[] memory list) {
        list = new address[](n);
        for (uint256 i; i < n; ++i) {
            list[i] = address(uint160(uint256(keccak256(abi.encode(salt, i)))));
        }
    }

    function _popcount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; ++c) {
            x &= x - 1;
        }
    }

    /// @notice Any ETH amount up to 2^128-1 is held and released exactly.
    function testFuzz_amount_eth(uint256 amount) public {
        amount = bound(amount, 1, type(uint128).max);
        vm.deal(payer, amount);
        Escrow e = _create(_params(address(0)), amount);
        assertEq(e.amount(), amount);
        assertEq(address(e).balance, amount);
        _approveN(e, 2);
        vm.warp(e.releaseTime());
        e.release();
        assertEq(payee.balance, amount);
        assertEq(address(e).balance, 0);
    }

    /// @notice Any ERC-20 amount and transfer fee: credited = received, and payouts empty the escrow.
    function testFuzz_amount_feeOnTransfer(uint256 amount, uint256 feeBps, bool release) public {
        amount = bound(amount, 1, type(uint128).max);
        feeBps = bound(feeBps, 0, 9_999);
        FeeOnTransferToken t = new FeeOnTransferToken(feeBps);
        t.mint(payer, amount);
        vm.prank(payer);
        t.approve(address(factory), amount);
        uint256 expected = amount - amount * feeBps / 10_000;
        if (expected == 0) {
            vm.prank(payer);
            vm.expectRevert(IEscrowFactory.ZeroAmount.selector);
            factory.createEscrow(_params(address(t)), amount);
            return;
        }
        Escrow e = _create(_params(address(t)), amount);
        assertEq(e.amount(), expected);
        assertEq(t.balanceOf(address(e)), expected);
        if (release) {
            vm.prank(arbiter);
            e.arbiterDecide(true);
        } else {
            vm.warp(e.deadline());
            e.refund();
        }
        assertEq(t.balanceOf(address(e)), 0);
    }

    /// @notice For any N, M and set of approving approvers, release succeeds iff #approvals >= M.
    function testFuzz_threshold(uint256 n, uint256 m, uint256 mask, uint256 salt) public {
        n = bound(n, 1, 16);
        m = bound(m, 1, n);
        mask = bound(mask, 0, (1 << n) - 1);
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = _approverSet(n, salt);
        p.threshold = uint8(m);
        Escrow e = _create(p, AMOUNT);
        for (uint256 i; i < n; ++i) {
            if (mask & (1 << i) != 0) _approve(e, p.approvers[i]);
        }
        uint256 count = _popcount(mask);
        assertEq(e.approvalCount(), count);
        vm.warp(e.releaseTime());
        if (count >= m) {
            e.release();
            assertEq(payee.balance, AMOUNT);
        } else {
            vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, count, m));
            e.release();
        }
        // the emergency path uses the same threshold on its own votes
        if (count < m) {
            for (uint256 i; i < n; ++i) {
                if (mask & (1 << i) == 0) {
                    vm.prank(p.approvers[i]);
                    e.approveEmergencyRefund();
                }
            }
            if (n - count >= m) {
                e.emergencyRefund();
                assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
            } else {
                vm.expectRevert(abi.encodeWithSelector(IEscrow.InsufficientApprovals.selector, n - count, m));
                e.emergencyRefund();
            }
        }
    }

    /// @notice Creation accepts exactly the valid (N, M) pairs.
    function testFuzz_thresholdValidation(uint256 n, uint256 m) public {
        n = bound(n, 0, 20);
        m = bound(m, 0, 255);
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = _approverSet(n, 7);
        p.threshold = uint8(m);
        vm.prank(payer);
        if (n == 0 || n > 16) {
            vm.expectRevert(abi.encodeWithSelector(IEscrowFactory.InvalidApproverCount.selector, n));
        } else if (m == 0 || m > n) {
            vm.expectRevert(abi.encodeWithSelector(IEscrowFactory.InvalidThreshold.selector, m, n));
        }
        factory.createEscrow{value: AMOUNT}(p, AMOUNT);
    }

    /// @notice Approver sets: creation succeeds iff all are non-zero and distinct; the escrow keeps
    ///         them in order and recognises exactly them; the address is predictable.
    function testFuzz_approverSet(address[16] memory raw, uint256 n) public {
        n = bound(n, 1, 16);
        address[] memory list = new address[](n);
        bool valid = true;
        for (uint256 i; i < n; ++i) {
            list[i] = raw[i];
            if (raw[i] == address(0)) valid = false;
            for (uint256 j; j < i; ++j) {
                if (raw[j] == raw[i]) valid = false;
            }
        }
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = list;
        p.threshold = 1;
        address predicted = factory.predictAddress(payer, p);
        vm.prank(payer);
        if (!valid) vm.expectRevert();
        address escrow = factory.createEscrow{value: AMOUNT}(p, AMOUNT);
        if (!valid) return;
        Escrow e = Escrow(escrow);
        assertEq(escrow, predicted);
        assertEq(e.approvers(), list);
        for (uint256 i; i < n; ++i) {
            assertTrue(e.isApprover(list[i]));
        }
        assertFalse(e.isApprover(stranger) && !_contains(list, stranger));
        // every approver can approve exactly once and revoke
        for (uint256 i; i < n; ++i) {
            _approve(e, list[i]);
        }
        assertEq(e.approvalCount(), n);
        assertEq(e.eventCount(), 1 + n);
    }

    function _contains(address[] memory list, address who) internal pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == who) return true;
        }
        return false;
    }

    /// @notice Timestamps: at any time t, exactly the allowed settlement paths succeed.
    function testFuzz_timestamps(uint40 releaseOffset, uint40 window, uint40 t, uint8 path) public {
        uint40 now_ = uint40(block.timestamp);
        releaseOffset = uint40(bound(releaseOffset, 0, 3650 days));
        window = uint40(bound(window, 1, 3650 days));
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.releaseTime = now_ + releaseOffset - 1; // may be in the past
        p.deadline = p.releaseTime + window;
        if (p.deadline <= now_) p.deadline = now_ + 1;
        Escrow e = _create(p, AMOUNT);
        _approveN(e, 2);
        _voteEmergency(e, 2);
        t = uint40(bound(t, now_, uint256(p.deadline) + 3650 days));
        vm.warp(t);

        path = uint8(bound(path, 0, 3));
        if (path == 0) {
            if (t < p.releaseTime) {
                vm.expectRevert(abi.encodeWithSelector(IEscrow.ReleaseTimelockActive.selector, p.releaseTime));
            } else if (t >= p.deadline) {
                vm.expectRevert(abi.encodeWithSelector(IEscrow.DeadlinePassed.selector, p.deadline));
            }
            e.release();
        } else if (path == 1) {
            if (t < p.deadline) {
                vm.expectRevert(abi.encodeWithSelector(IEscrow.DeadlineNotReached.selector, p.deadline));
            }
            e.refund();
        } else if (path == 2) {
            vm.prank(arbiter);
            if (t >= p.deadline) {
                vm.expectRevert(abi.encodeWithSelector(IEscrow.DeadlinePassed.selector, p.deadline));
            }
            e.arbiterDecide(t % 2 == 0);
        } else {
            e.emergencyRefund(); // any time
            assertEq(uint8(e.status()), uint8(IEscrow.Status.Refunded));
        }
        // whatever happened, the money is either fully held or fully paid out
        if (e.status() == IEscrow.Status.Funded) {
            assertEq(address(e).balance, AMOUNT);
        } else {
            assertEq(address(e).balance, 0);
            assertEq(payer.balance + payee.balance, 1_000 ether);
        }
    }

    /// @notice Invalid time windows are rejected at creation.
    function testFuzz_timeValidation(uint40 releaseTime, uint40 deadline) public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.releaseTime = releaseTime;
        p.deadline = deadline;
        vm.prank(payer);
        if (deadline <= block.timestamp) {
            vm.expectRevert(abi.encodeWithSelector(IEscrowFactory.InvalidDeadline.selector, deadline));
        } else if (releaseTime >= deadline) {
            vm.expectRevert(
                abi.encodeWithSelector(IEscrowFactory.InvalidReleaseTime.selector, releaseTime, deadline)
            );
        }
        factory.createEscrow{value: AMOUNT}(p, AMOUNT);
    }
}
