// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

/// @title IEscrow
/// @notice Events, errors and external functions of one Fusion Prime escrow (see contracts/README.md).
/// @dev Every event of an escrow carries `seq`, the escrow's own event number: 1 for `Deposited`,
///      then +1 for every further event of that escrow, so a reader can prove it saw all of them
///      (compare with {eventCount}).
interface IEscrow {
    /// @notice Lifecycle of an escrow. `None` only exists before initialisation (and on the
    ///         implementation contract, which can never be initialised).
    enum Status {
        None,
        Funded,
        Released,
        Refunded
    }

    /// @notice The deposit was credited (always seq 1, in the creation transaction).
    /// @param token address(0) for native ETH.
    /// @param amount The credited amount (ERC-20: the escrow's balance increase).
    event Deposited(uint64 seq, address indexed payer, address indexed token, uint256 amount);
    /// @notice `approver` approved the release; `approvals` is the number of release approvals now.
    event Approved(uint64 seq, address indexed approver, uint256 approvals);
    /// @notice `approver` withdrew its release approval.
    event ApprovalRevoked(uint64 seq, address indexed approver, uint256 approvals);
    /// @notice `approver` voted for an emergency refund to the payer.
    event EmergencyRefundApproved(uint64 seq, address indexed approver, uint256 approvals);
    /// @notice `approver` withdrew its emergency-refund vote.
    event EmergencyRefundApprovalRevoked(uint64 seq, address indexed approver, uint256 approvals);
    /// @notice Terminal: released to the payee after M approvals and the timelock.
    /// @param paid false when the transfer failed and the amount waits in {withdraw}.
    event Released(uint64 seq, address indexed payee, uint256 amount, bool paid);
    /// @notice Terminal: refunded to the payer after the deadline.
    event Refunded(uint64 seq, address indexed payer, uint256 amount, bool paid);
    /// @notice Terminal: refunded to the payer on M emergency-refund votes.
    event EmergencyRefunded(uint64 seq, address indexed payer, uint256 amount, bool paid);
    /// @notice Terminal: the arbiter released to the payee (`release`) or refunded the payer.
    event ArbiterDecided(
        uint64 seq,
        address indexed arbiter,
        bool release,
        address indexed recipient,
        uint256 amount,
        bool paid
    );
    /// @notice A deferred payment was delivered to `recipient` (the payee or the payer).
    event Withdrawn(uint64 seq, address indexed recipient, uint256 amount);

    error NotFactory();
    error NotAClone();
    error AlreadyInitialized();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error DepositMissing(uint256 balance, uint256 amount);
    error NotFunded(Status status);
    error NotApprover(address account);
    error NotArbiter(address account);
    error AlreadyApproved(address approver);
    error NotApproved(address approver);
    error ReleaseTimelockActive(uint256 releaseTime);
    error DeadlinePassed(uint256 deadline);
    error DeadlineNotReached(uint256 deadline);
    error InsufficientApprovals(uint256 approvals, uint256 threshold);
    error NothingToWithdraw();
    error TransferFailed();
    error InsufficientGas();

    /// @notice Marks the escrow funded with `amount` and emits `Deposited` (seq 1).
    /// @dev Only the factory, once, right after it deployed the clone and moved the deposit into it.
    /// @param amount The credited deposit; must be > 0 and fit in 128 bits.
    function initialize(uint256 amount) external;

    /// @notice Approve the release to the payee. Caller must be an approver; escrow must be Funded.
    function approve() external;

    /// @notice Withdraw the caller's release approval (only while Funded).
    function revokeApproval() external;

    /// @notice Pay the deposit to the payee. Anyone may call once there are `threshold` approvals and
    ///         `releaseTime <= block.timestamp < deadline`.
    function release() external;

    /// @notice Refund the deposit to the payer. Anyone may call once `block.timestamp >= deadline`.
    function refund() external;

    /// @notice Vote for an emergency refund to the payer. Caller must be an approver.
    function approveEmergencyRefund() external;

    /// @notice Withdraw the caller's emergency-refund vote (only while Funded).
    function revokeEmergencyRefundApproval() external;

    /// @notice Refund the payer at any time once `threshold` approvers voted for it. Anyone may call.
    function emergencyRefund() external;

    /// @notice The arbiter settles the escrow before the deadline: to the payee if `releaseToPayee`,
    ///         else back to the payer. Ignores approvals and the release timelock.
    /// @param releaseToPayee true pays the payee, false refunds the payer.
    function arbiterDecide(bool releaseToPayee) external;

    /// @notice Deliver a payment that failed at settlement. Anyone may call; the funds only ever go to
    ///         the settled recipient (payee after a release, payer after a refund).
    function withdraw() external;

    /// @notice The factory that deployed this escrow (the only account that can initialise it).
    function factory() external view returns (address);
    /// @notice The depositor; refunds only ever go here.
    function payer() external view returns (address);
    /// @notice The beneficiary; releases only ever go here.
    function payee() external view returns (address);
    /// @notice The deposited asset; address(0) for native ETH.
    function token() external view returns (address);
    /// @notice The optional arbiter; address(0) when there is none.
    function arbiter() external view returns (address);
    /// @notice The back-office settlement this escrow belongs to.
    function settlementRef() external view returns (bytes32);
    /// @notice Earliest timestamp at which `release` may pay out.
    function releaseTime() external view returns (uint256);
    /// @notice From this timestamp on: refund possible; release and arbiter decisions no longer.
    function deadline() external view returns (uint256);
    /// @notice Number of approvals (M) needed for release or emergency refund.
    function threshold() external view returns (uint256);
    /// @notice The approver set, in creation order (index = bit in the approval bitmaps).
    function approvers() external view returns (address[] memory);
    /// @notice Whether `account` is one of the approvers.
    function isApprover(address account) external view returns (bool);
    /// @notice Current lifecycle status.
    function status() external view returns (Status);
    /// @notice The credited deposit.
    function amount() external view returns (uint256);
    /// @notice Number of events this escrow has emitted (= seq of the latest one).
    function eventCount() external view returns (uint64);
    /// @notice Number of current release approvals.
    function approvalCount() external view returns (uint256);
    /// @notice Number of current emergency-refund votes.
    function emergencyApprovalCount() external view returns (uint256);
    /// @notice Whether `approver` currently approves the release.
    function hasApproved(address approver) external view returns (bool);
    /// @notice Whether `approver` currently votes for an emergency refund.
    function hasApprovedEmergencyRefund(address approver) external view returns (bool);
    /// @notice A payment that failed at settlement and waits for {withdraw}; (address(0), 0) if none.
    function pendingWithdrawal() external view returns (address recipient, uint256 value);
}
