// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";

import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {IEscrow} from "../../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../../src/interfaces/IEscrowFactory.sol";
import {FeeOnTransferToken, MockERC20, RevertingReceiver} from "../utils/Mocks.sol";

/// @notice Drives many escrows through random actions and keeps an independent model of what each
///         action must do. Every mismatch between model and contract, and every out-of-order event
///         number, is counted; the invariant suite asserts the counters stay zero.
contract EscrowHandler is Test {
    uint256 internal constant ASSETS = 3; // 0 = ETH, 1 = plain ERC-20, 2 = 1 % fee-on-transfer
    uint256 internal constant POOL = 5; // approver pool

    struct Model {
        uint256 asset;
        address payer;
        address payee;
        address[] approvers;
        uint256 threshold;
        uint256 releaseTime;
        uint256 deadline;
        uint256 amount;
        uint256 approvals; // bitmap
        uint256 votes; // emergency bitmap
        IEscrow.Status status;
        bool pending;
        uint64 lastSeq;
    }

    EscrowFactory public immutable factory;
    MockERC20 public immutable plain;
    FeeOnTransferToken public immutable feeToken;
    RevertingReceiver public immutable fickle; // a payee/payer contract that rejects ETH at times
    address public immutable arbiter = makeAddr("h-arbiter");

    address[] internal payers;
    address[] internal payees;
    address[] internal pool;

    Escrow[] public escrows;
    mapping(address => Model) internal models;

    // ghost accounting, per asset
    uint256[ASSETS] public deposited;
    uint256[ASSETS] public paidOut; // what left escrows
    uint256[ASSETS] public received; // what payers/payees received from escrows (after token fees)
    uint256 public mismatches;
    uint256 public seqViolations;
    uint256 public strayPayments; // money that reached anyone but the escrow's payer/payee
    mapping(bytes32 => uint256) public calls;

    constructor(EscrowFactory factory_) {
        factory = factory_;
        plain = new MockERC20("Plain", "PLN", 18);
        feeToken = new FeeOnTransferToken(100);
        fickle = new RevertingReceiver();
        payers.push(makeAddr("h-payer-1"));
        payers.push(makeAddr("h-payer-2"));
        payers.push(address(fickle));
        payees.push(makeAddr("h-payee-1"));
        payees.push(address(fickle));
        for (uint256 i; i < POOL; ++i) {
            pool.push(makeAddr(string.concat("h-approver-", vm.toString(i))));
        }
    }

    // ------------------------------------------------------------------ helpers

    function escrowCount() external view returns (uint256) {
        return escrows.length;
    }

    function model(address e) external view returns (Model memory) {
        return models[e];
    }

    function assetOf(uint256 asset) public view returns (address) {
        if (asset == 0) return address(0);
        return asset == 1 ? address(plain) : address(feeToken);
    }

    function balanceOf(uint256 asset, address who) public view returns (uint256) {
        if (asset == 0) return who.balance;
        return MockERC20(assetOf(asset)).balanceOf(who);
    }

    function _pick(uint256 seed) internal view returns (Escrow e, Model storage m) {
        // Mostly one of the three newest escrows, so votes accumulate and releases happen.
        uint256 len = escrows.length;
        uint256 recent = len < 3 ? len : 3;
        e = escrows[seed % 4 == 0 ? (seed >> 8) % len : len - 1 - (seed >> 8) % recent];
        m = models[address(e)];
    }

    function _popcount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; ++c) {
            x &= x - 1;
        }
    }

    function _indexOf(Model storage m, address who) internal view returns (uint256) {
        for (uint256 i; i < m.approvers.length; ++i) {
            if (m.approvers[i] == who) return i;
        }
        return type(uint256).max;
    }

    /// @dev Check that the escrow's logs since the last call carry consecutive event numbers.
    function _checkLogs() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            Model storage m = models[logs[i].emitter];
            if (m.payer == address(0)) continue; // not an escrow
            uint64 seq = abi.decode(logs[i].data, (uint64));
            if (seq != m.lastSeq + 1) ++seqViolations;
            m.lastSeq = seq;
        }
    }

    function _expect(bool shouldSucceed, bool succeeded) internal {
        if (shouldSucceed != succeeded) ++mismatches;
    }

    /// @dev Settle in the model and account the money that moved, by observing balances.
    function _observePayout(
        Escrow e,
        Model storage m,
        address caller,
        address to,
        IEscrow.Status terminal,
        bytes memory call_
    ) internal returns (bool ok) {
        address other = to == m.payer ? m.payee : m.payer;
        uint256 escrowBefore = balanceOf(m.asset, address(e));
        uint256 toBefore = balanceOf(m.asset, to);
        uint256 otherBefore = balanceOf(m.asset, other);
        vm.prank(caller);
        (ok,) = address(e).call(call_);
        if (!ok) return ok;
        uint256 left = escrowBefore - balanceOf(m.asset, address(e));
        paidOut[m.asset] += left;
        received[m.asset] += balanceOf(m.asset, to) - toBefore;
        if (balanceOf(m.asset, other) != otherBefore && other != to) ++strayPayments;
        m.status = terminal;
        m.pending = left == 0;
        if (left != 0 && left != m.amount) ++mismatches;
    }

    // ------------------------------------------------------------------ actions

    function create(uint256 seed, uint256 amount, uint256 n, uint256 m_, uint256 releaseIn, uint256 window)
        external
    {
        vm.recordLogs();
        IEscrowFactory.EscrowParams memory p = _buildParams(seed, n, m_, releaseIn, window);
        uint256 asset = seed % ASSETS;
        address payer = payers[(seed >> 8) % payers.length];
        if (payer == p.payee) p.payee = payees[0];
        amount = _bound(amount, 1, 1e30);
        Escrow e = asset == 0 ? _createEth(p, payer, amount) : _createToken(p, payer, asset, amount);
        if (address(e) != address(0)) {
            _track(e, p, payer, asset);
            deposited[asset] += e.amount();
            ++calls["create"];
        }
        _checkLogs();
    }

    function _buildParams(uint256 seed, uint256 n, uint256 m_, uint256 releaseIn, uint256 window)
        internal
        view
        returns (IEscrowFactory.EscrowParams memory p)
    {
        n = _bound(n, 1, POOL);
        address[] memory list = new address[](n);
        uint256 start = (seed >> 24) % POOL;
        for (uint256 i; i < n; ++i) {
            list[i] = pool[(start + i) % POOL];
        }
        uint40 releaseTime = uint40(block.timestamp + _bound(releaseIn, 0, 30 days));
        p = IEscrowFactory.EscrowParams({
            payee: payees[(seed >> 16) % payees.length],
            token: assetOf(seed % ASSETS),
            arbiter: seed % 5 == 0 ? address(0) : arbiter,
            settlementRef: keccak256(abi.encode(escrows.length, seed)),
            releaseTime: releaseTime,
            deadline: uint40(releaseTime + _bound(window, 1, 60 days)),
            threshold: uint8(_bound(m_, 1, n)),
            approvers: list
        });
    }

    function _createEth(IEscrowFactory.EscrowParams memory p, address payer, uint256 amount)
        internal
        returns (Escrow e)
    {
        vm.deal(payer, payer.balance + amount);
        vm.prank(payer);
        e = Escrow(factory.createEscrow{value: amount}(p, amount));
        if (e.amount() != amount) ++mismatches;
    }

    function _createToken(IEscrowFactory.EscrowParams memory p, address payer, uint256 asset, uint256 amount)
        internal
        returns (Escrow e)
    {
        MockERC20 t = MockERC20(assetOf(asset));
        t.mint(payer, amount);
        vm.startPrank(payer);
        t.approve(address(factory), amount);
        uint256 expected = asset == 2 ? amount - amount / 100 : amount;
        if (expected == 0) {
            vm.expectRevert(IEscrowFactory.ZeroAmount.selector);
            factory.createEscrow(p, amount);
        } else {
            e = Escrow(factory.createEscrow(p, amount));
            if (e.amount() != expected) ++mismatches;
        }
        vm.stopPrank();
    }

    function _track(Escrow e, IEscrowFactory.EscrowParams memory p, address payer, uint256 asset) internal {
        escrows.push(e);
        Model storage m = models[address(e)];
        m.asset = asset;
        m.payer = payer;
        m.payee = p.payee;
        m.approvers = p.approvers;
        m.threshold = p.threshold;
        m.releaseTime = p.releaseTime;
        m.deadline = p.deadline;
        m.amount = e.amount();
        m.status = IEscrow.Status.Funded;
    }

    function vote(uint256 seed, uint256 who, uint8 kind) external {
        if (escrows.length == 0) return;
        vm.recordLogs();
        (Escrow e, Model storage m) = _pick(seed);
        // mostly real approvers, sometimes an outsider
        address caller = who % 7 == 0
            ? m.payee
            : (who % 3 == 0 ? pool[(who >> 8) % POOL] : m.approvers[(who >> 8) % m.approvers.length]);
        uint256 idx = _indexOf(m, caller);
        bool isApprover = idx != type(uint256).max;
        uint256 bit = isApprover ? 1 << idx : 0;
        bool funded = m.status == IEscrow.Status.Funded;
        kind = kind % 8; // approvals are more frequent than revocations
        if (kind <= 3) kind = 0;
        else kind -= 3; // 1 revoke, 2 emergency vote, 3 revoke emergency vote, 4 emergency vote
        if (kind == 4) kind = 2;
        bytes memory data;
        bool should;
        if (kind == 0) {
            data = abi.encodeCall(IEscrow.approve, ());
            should = funded && isApprover && m.approvals & bit == 0;
        } else if (kind == 1) {
            data = abi.encodeCall(IEscrow.revokeApproval, ());
            should = funded && isApprover && m.approvals & bit != 0;
        } else if (kind == 2) {
            data = abi.encodeCall(IEscrow.approveEmergencyRefund, ());
            should = funded && isApprover && m.votes & bit == 0;
        } else {
            data = abi.encodeCall(IEscrow.revokeEmergencyRefundApproval, ());
            should = funded && isApprover && m.votes & bit != 0;
        }
        vm.prank(caller);
        (bool ok,) = address(e).call(data);
        _expect(should, ok);
        if (ok) {
            if (kind == 0) m.approvals |= bit;
            else if (kind == 1) m.approvals &= ~bit;
            else if (kind == 2) m.votes |= bit;
            else m.votes &= ~bit;
            ++calls["vote"];
        }
        _checkLogs();
    }

    function release(uint256 seed) external {
        if (escrows.length == 0) return;
        vm.recordLogs();
        (Escrow e, Model storage m) = _pick(seed);
        bool should = m.status == IEscrow.Status.Funded && block.timestamp >= m.releaseTime
            && block.timestamp < m.deadline && _popcount(m.approvals) >= m.threshold;
        bool ok = _observePayout(
            e, m, msg.sender, m.payee, IEscrow.Status.Released, abi.encodeCall(IEscrow.release, ())
        );
        _expect(should, ok);
        if (ok) ++calls["release"];
        _checkLogs();
    }

    function refund(uint256 seed) external {
        if (escrows.length == 0) return;
        vm.recordLogs();
        (Escrow e, Model storage m) = _pick(seed);
        bool should = m.status == IEscrow.Status.Funded && block.timestamp >= m.deadline;
        bool ok = _observePayout(
            e, m, msg.sender, m.payer, IEscrow.Status.Refunded, abi.encodeCall(IEscrow.refund, ())
        );
        _expect(should, ok);
        if (ok) ++calls["refund"];
        _checkLogs();
    }

    function emergencyRefund(uint256 seed) external {
        if (escrows.length == 0) return;
        vm.recordLogs();
        (Escrow e, Model storage m) = _pick(seed);
        bool should = m.status == IEscrow.Status.Funded && _popcount(m.votes) >= m.threshold;
        bool ok = _observePayout(
            e, m, msg.sender, m.payer, IEscrow.Status.Refunded, abi.encodeCall(IEscrow.emergencyRefund, ())
        );
        _expect(should, ok);
        if (ok) ++calls["emergencyRefund"];
        _checkLogs();
    }

    function arbiterDecide(uint256 seed, bool toPayee, bool asArbiter) external {
        if (escrows.length == 0) return;
        vm.recordLogs();
        (Escrow e, Model storage m) = _pick(seed);
        address caller = asArbiter ? arbiter : m.payee;
        bool should = m.status == IEscrow.Status.Funded && caller == e.arbiter() && caller == arbiter
            && block.timestamp < m.deadline;
        bool ok = _observePayout(
            e,
            m,
            caller,
            toPayee ? m.payee : m.payer,
            toPayee ? IEscrow.Status.Released : IEscrow.Status.Refunded,
            abi.encodeCall(IEscrow.arbiterDecide, (toPayee))
        );
        _expect(should, ok);
        if (ok) ++calls["arbiter"];
        _checkLogs();
    }

    function withdraw(uint256 seed) external {
        if (escrows.length == 0) return;
        vm.recordLogs();
        (Escrow e, Model storage m) = _pick(seed);
        address to = m.status == IEscrow.Status.Released ? m.payee : m.payer;
        uint256 escrowBefore = balanceOf(m.asset, address(e));
        uint256 toBefore = balanceOf(m.asset, to);
        (bool ok,) = address(e).call(abi.encodeCall(IEscrow.withdraw, ()));
        // must succeed iff a payment is pending and the recipient accepts it now
        bool accepts = to != address(fickle) || !fickle.rejecting() || m.asset != 0;
        _expect(m.pending && accepts, ok);
        if (ok) {
            uint256 left = escrowBefore - balanceOf(m.asset, address(e));
            if (left != m.amount) ++mismatches;
            paidOut[m.asset] += left;
            received[m.asset] += balanceOf(m.asset, to) - toBefore;
            m.pending = false;
            ++calls["withdraw"];
        }
        _checkLogs();
    }

    function warp(uint256 secondsForward) external {
        vm.warp(block.timestamp + _bound(secondsForward, 0, 2 days));
    }

    function toggleFickle() external {
        fickle.setRejecting(!fickle.rejecting());
    }
}
