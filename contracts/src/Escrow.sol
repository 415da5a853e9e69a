// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IEscrow} from "./interfaces/IEscrow.sol";
import {EscrowArgs} from "./libraries/EscrowArgs.sol";

/// @title Escrow
/// @notice Holds one deposit (ETH or ERC-20) for one back-office settlement until it is released to
///         the payee or refunded to the payer. Deployed only as a clone by {EscrowFactory}.
/// @dev Parameters are immutable arguments in the clone's code (see {EscrowArgs}); all mutable state
///      is one packed storage slot. Rules:
///      - release to the payee: `threshold` distinct approvals and `releaseTime <= now < deadline`;
///      - refund to the payer: `now >= deadline`;
///      - arbiter: release or refund at any time before the deadline;
///      - emergency refund to the payer: `threshold` approver votes, at any time;
///      - exactly one terminal transition; funds go only to the payer or the payee. A failed push
///        leaves the amount in the escrow for {withdraw}.
contract Escrow is IEscrow, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Mutable state, one storage slot.
    struct State {
        uint128 amount;
        uint64 eventCount;
        uint16 approvals; // bit i = approver i approves the release
        uint16 emergencyApprovals; // bit i = approver i votes for an emergency refund
        Status status;
        bool paymentPending; // terminal, but the push failed: the amount waits for withdraw()
    }

    /// @dev A payout must be able to forward at least this much gas to the recipient, so a caller
    ///      cannot starve a legitimate recipient's receive hook to force a deferred payment.
    uint256 internal constant PAYOUT_MIN_GAS = 100_000;
    /// @dev Gas kept back from an ETH payout to finish the transaction after the call.
    uint256 internal constant PAYOUT_GAS_RESERVE = 20_000;

    address private immutable _FACTORY;
    address private immutable _SELF;

    State private _state;

    modifier onlyFunded() {
        _onlyFunded();
        _;
    }

    /// @notice Deploys the implementation. It can never be initialised: only clones can.
    constructor() {
        _FACTORY = msg.sender;
        _SELF = address(this);
    }

    // ------------------------------------------------------------------ lifecycle

    /// @inheritdoc IEscrow
    function initialize(uint256 amount_) external {
        if (address(this) == _SELF) revert NotAClone();
        if (msg.sender != _FACTORY) revert NotFactory();
        if (_state.status != Status.None) revert AlreadyInitialized();
        if (amount_ == 0) revert ZeroAmount();
        if (amount_ > type(uint128).max) revert AmountTooLarge(amount_);
        address token_ = token();
        if (token_ == address(0) && address(this).balance < amount_) {
            revert DepositMissing(address(this).balance, amount_);
        }
        _state = State({
            amount: uint128(amount_),
            eventCount: 1,
            approvals: 0,
            emergencyApprovals: 0,
            status: Status.Funded,
            paymentPending: false
        });
        emit Deposited(1, payer(), token_, amount_);
    }

    /// @inheritdoc IEscrow
    function approve() external nonReentrant onlyFunded {
        uint256 bit = _approverBit(msg.sender);
        State storage s = _state;
        uint256 approvals_ = s.approvals;
        if (approvals_ & bit != 0) revert AlreadyApproved(msg.sender);
        approvals_ |= bit;
        s.approvals = uint16(approvals_);
        uint64 seq = ++s.eventCount;
        emit Approved(seq, msg.sender, _popcount(approvals_));
    }

    /// @inheritdoc IEscrow
    function revokeApproval() external nonReentrant onlyFunded {
        uint256 bit = _approverBit(msg.sender);
        State storage s = _state;
        uint256 approvals_ = s.approvals;
        if (approvals_ & bit == 0) revert NotApproved(msg.sender);
        approvals_ &= ~bit;
        s.approvals = uint16(approvals_);
        uint64 seq = ++s.eventCount;
        emit ApprovalRevoked(seq, msg.sender, _popcount(approvals_));
    }

    /// @inheritdoc IEscrow
    function release() external nonReentrant onlyFunded {
        uint256 releaseTime_ = releaseTime();
        if (block.timestamp < releaseTime_) revert ReleaseTimelockActive(releaseTime_);
        uint256 deadline_ = deadline();
        if (block.timestamp >= deadline_) revert DeadlinePassed(deadline_);
        uint256 approvals_ = _popcount(_state.approvals);
        uint256 threshold_ = threshold();
        if (approvals_ < threshold_) revert InsufficientApprovals(approvals_, threshold_);
        address to = payee();
        (uint64 seq, uint256 value, bool paid) = _settle(Status.Released, to);
        emit Released(seq, to, value, paid);
    }

    /// @inheritdoc IEscrow
    function refund() external nonReentrant onlyFunded {
        uint256 deadline_ = deadline();
        if (block.timestamp < deadline_) revert DeadlineNotReached(deadline_);
        address to = payer();
        (uint64 seq, uint256 value, bool paid) = _settle(Status.Refunded, to);
        emit Refunded(seq, to, value, paid);
    }

    /// @inheritdoc IEscrow
    function approveEmergencyRefund() external nonReentrant onlyFunded {
        uint256 bit = _approverBit(msg.sender);
        State storage s = _state;
        uint256 votes = s.emergencyApprovals;
        if (votes & bit != 0) revert AlreadyApproved(msg.sender);
        votes |= bit;
        s.emergencyApprovals = uint16(votes);
        uint64 seq = ++s.eventCount;
        emit EmergencyRefundApproved(seq, msg.sender, _popcount(votes));
    }

    /// @inheritdoc IEscrow
    function revokeEmergencyRefundApproval() external nonReentrant onlyFunded {
        uint256 bit = _approverBit(msg.sender);
        State storage s = _state;
        uint256 votes = s.emergencyApprovals;
        if (votes & bit == 0) revert NotApproved(msg.sender);
        votes &= ~bit;
        s.emergencyApprovals = uint16(votes);
        uint64 seq = ++s.eventCount;
        emit EmergencyRefundApprovalRevoked(seq, msg.sender, _popcount(votes));
    }

    /// @inheritdoc IEscrow
    function emergencyRefund() external nonReentrant onlyFunded {
        uint256 votes = _popcount(_state.emergencyApprovals);
        uint256 threshold_ = threshold();
        if (votes < threshold_) revert InsufficientApprovals(votes, threshold_);
        address to = payer();
        (uint64 seq, uint256 value, bool paid) = _settle(Status.Refunded, to);
        emit EmergencyRefunded(seq, to, value, paid);
    }

    /// @inheritdoc IEscrow
    function arbiterDecide(bool releaseToPayee) external nonReentrant onlyFunded {
        address arbiter_ = arbiter();
        if (arbiter_ == address(0) || msg.sender != arbiter_) revert NotArbiter(msg.sender);
        uint256 deadline_ = deadline();
        if (block.timestamp >= deadline_) revert DeadlinePassed(deadline_);
        address to = releaseToPayee ? payee() : payer();
        (uint64 seq, uint256 value, bool paid) =
            _settle(releaseToPayee ? Status.Released : Status.Refunded, to);
        emit ArbiterDecided(seq, arbiter_, releaseToPayee, to, value, paid);
    }

    /// @inheritdoc IEscrow
    function withdraw() external nonReentrant {
        State storage s = _state;
        if (!s.paymentPending) revert NothingToWithdraw();
        address to = s.status == Status.Released ? payee() : payer();
        uint256 value = s.amount;
        s.paymentPending = false;
        uint64 seq = ++s.eventCount;
        if (!_push(to, value, false)) revert TransferFailed();
        emit Withdrawn(seq, to, value);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEscrow
    function factory() external view returns (address) {
        return _FACTORY;
    }

    /// @inheritdoc IEscrow
    function payer() public view returns (address) {
        return _argAddress(EscrowArgs.PAYER);
    }

    /// @inheritdoc IEscrow
    function payee() public view returns (address) {
        return _argAddress(EscrowArgs.PAYEE);
    }

    /// @inheritdoc IEscrow
    function token() public view returns (address) {
        return _argAddress(EscrowArgs.TOKEN);
    }

    /// @inheritdoc IEscrow
    function arbiter() public view returns (address) {
        return _argAddress(EscrowArgs.ARBITER);
    }

    /// @inheritdoc IEscrow
    function settlementRef() external view returns (bytes32) {
        return _argWord(EscrowArgs.SETTLEMENT_REF);
    }

    /// @inheritdoc IEscrow
    function releaseTime() public view returns (uint256) {
        return uint256(_argWord(EscrowArgs.RELEASE_TIME)) >> 216;
    }

    /// @inheritdoc IEscrow
    function deadline() public view returns (uint256) {
        return uint256(_argWord(EscrowArgs.DEADLINE)) >> 216;
    }

    /// @inheritdoc IEscrow
    function threshold() public view returns (uint256) {
        return uint256(_argWord(EscrowArgs.THRESHOLD)) >> 248;
    }

    /// @inheritdoc IEscrow
    function approvers() external view returns (address[] memory list) {
        uint256 n = _approverCount();
        list = new address[](n);
        for (uint256 i; i < n; ++i) {
            list[i] = _argAddress(EscrowArgs.APPROVERS + 20 * i);
        }
    }

    /// @inheritdoc IEscrow
    function isApprover(address account) external view returns (bool) {
        return _approverBitOrZero(account) != 0;
    }

    /// @inheritdoc IEscrow
    function status() external view returns (Status) {
        return _state.status;
    }

    /// @inheritdoc IEscrow
    function amount() external view returns (uint256) {
        return _state.amount;
    }

    /// @inheritdoc IEscrow
    function eventCount() external view returns (uint64) {
        return _state.eventCount;
    }

    /// @inheritdoc IEscrow
    function approvalCount() external view returns (uint256) {
        return _popcount(_state.approvals);
    }

    /// @inheritdoc IEscrow
    function emergencyApprovalCount() external view returns (uint256) {
        return _popcount(_state.emergencyApprovals);
    }

    /// @inheritdoc IEscrow
    function hasApproved(address approver) external view returns (bool) {
        return _state.approvals & _approverBitOrZero(approver) != 0;
    }

    /// @inheritdoc IEscrow
    function hasApprovedEmergencyRefund(address approver) external view returns (bool) {
        return _state.emergencyApprovals & _approverBitOrZero(approver) != 0;
    }

    /// @inheritdoc IEscrow
    function pendingWithdrawal() external view returns (address recipient, uint256 value) {
        State memory s = _state;
        if (!s.paymentPending) return (address(0), 0);
        return (s.status == Status.Released ? payee() : payer(), s.amount);
    }

    // ------------------------------------------------------------------ internals

    function _onlyFunded() private view {
        Status current = _state.status;
        if (current != Status.Funded) revert NotFunded(current);
    }

    /// @dev Enter the terminal `terminal` state, then push the deposit to `to`. The state is written
    ///      before the external call (checks-effects-interactions, plus the reentrancy guard); if the
    ///      push fails the amount stays in the escrow, marked for {withdraw}.
    function _settle(Status terminal, address to) private returns (uint64 seq, uint256 value, bool paid) {
        State storage s = _state;
        s.status = terminal;
        s.paymentPending = true;
        seq = ++s.eventCount;
        value = s.amount;
        paid = _push(to, value, true);
        if (paid) s.paymentPending = false;
    }

    /// @dev Transfer `value` of the escrowed asset to `to`, returning false instead of reverting when
    ///      the recipient (or token) refuses it. With `guardGas`, requires enough gas for a fair
    ///      attempt and keeps a reserve, so only the recipient itself can make a payout fail.
    function _push(address to, uint256 value, bool guardGas) private returns (bool ok) {
        if (guardGas && gasleft() < PAYOUT_MIN_GAS + PAYOUT_GAS_RESERVE) revert InsufficientGas();
        address token_ = token();
        if (token_ == address(0)) {
            uint256 gasLimit = guardGas ? gasleft() - PAYOUT_GAS_RESERVE : gasleft();
            // No return data is copied: a recipient cannot grief with a huge revert payload.
            assembly ("memory-safe") {
                ok := call(gasLimit, to, value, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token_).trySafeTransfer(to, value);
        }
    }

    /// @dev Bit of `account` in the approval bitmaps; reverts if it is not an approver.
    function _approverBit(address account) private view returns (uint256 bit) {
        bit = _approverBitOrZero(account);
        if (bit == 0) revert NotApprover(account);
    }

    /// @dev Bit of `account` in the approval bitmaps, 0 if it is not an approver.
    function _approverBitOrZero(address account) private view returns (uint256) {
        uint256 n = _approverCount();
        for (uint256 i; i < n; ++i) {
            if (_argAddress(EscrowArgs.APPROVERS + 20 * i) == account) return 1 << i;
        }
        return 0;
    }

    function _approverCount() private view returns (uint256) {
        uint256 size;
        assembly ("memory-safe") {
            size := extcodesize(address())
        }
        // Only meaningful on a clone; the implementation has no arguments and is never Funded.
        if (size < EscrowArgs.CLONE_CODE_SIZE + EscrowArgs.APPROVERS) return 0;
        return (size - EscrowArgs.CLONE_CODE_SIZE - EscrowArgs.APPROVERS) / 20;
    }

    /// @dev The 32 bytes of immutable arguments starting at `offset` (zero-padded past the end).
    function _argWord(uint256 offset) private view returns (bytes32 word) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, add(offset, 0x2d), 0x20)
            word := mload(0x00)
        }
    }

    function _argAddress(uint256 offset) private view returns (address) {
        return address(bytes20(_argWord(offset)));
    }

    function _popcount(uint256 x) private pure returns (uint256 count) {
        for (; x != 0; ++count) {
            x &= x - 1;
        }
    }
}
