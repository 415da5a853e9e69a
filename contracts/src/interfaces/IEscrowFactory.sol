// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

/// @title IEscrowFactory
/// @notice Creates and funds Fusion Prime escrows (EIP-1167 clones with immutable arguments).
interface IEscrowFactory {
    /// @notice Parameters of one escrow. The payer is always `msg.sender` of {createEscrow}.
    /// @param payee Receives the deposit on release. Must not be address(0).
    /// @param token ERC-20 token, or address(0) for native ETH.
    /// @param arbiter Optional arbiter (address(0) = none). May be a contract.
    /// @param settlementRef Back-office settlement identifier.
    /// @param releaseTime Release is possible from this timestamp on (may be in the past).
    /// @param deadline Refund is possible from this timestamp on; must be in the future and > releaseTime.
    /// @param threshold M: approvals needed for release or emergency refund, 1 <= M <= N.
    /// @param approvers N distinct non-zero approvers, 1 <= N <= 16. May be contracts.
    struct EscrowParams {
        address payee;
        address token;
        address arbiter;
        bytes32 settlementRef;
        uint40 releaseTime;
        uint40 deadline;
        uint8 threshold;
        address[] approvers;
    }

    /// @notice A funded escrow was created. Emitted before the escrow's own `Deposited` (seq 1) in the
    ///         same transaction; this factory event does not carry an event number.
    /// @param token address(0) for native ETH.
    /// @param amount The credited deposit (ERC-20: the escrow's balance increase).
    event EscrowCreated(
        address indexed escrow,
        bytes32 indexed settlementRef,
        address indexed payer,
        address payee,
        address token,
        uint256 amount,
        address arbiter,
        uint8 threshold,
        uint40 releaseTime,
        uint40 deadline,
        address[] approvers
    );

    error InvalidPayee();
    error InvalidApproverCount(uint256 count);
    error InvalidThreshold(uint256 threshold, uint256 approverCount);
    error InvalidApprover(address approver);
    error DuplicateApprover(address approver);
    error InvalidDeadline(uint256 deadline);
    error InvalidReleaseTime(uint256 releaseTime, uint256 deadline);
    error ValueMismatch(uint256 value, uint256 amount);
    error ZeroAmount();

    /// @notice Deploy an escrow for `params` with the caller as payer and fund it in the same call.
    /// @dev ETH: send `amount` as msg.value. ERC-20: approve this factory for `amount` first; the
    ///      escrow is credited with its actual balance increase (fee-on-transfer safe). The address
    ///      is {predictAddress}(msg.sender, params); creating the same escrow twice reverts.
    /// @param params The escrow parameters.
    /// @param amount The deposit (ETH: must equal msg.value).
    /// @return escrow The new escrow.
    function createEscrow(EscrowParams calldata params, uint256 amount)
        external
        payable
        returns (address escrow);

    /// @notice The address {createEscrow} deploys to when called by `payer` with `params`.
    /// @param payer The account that will call {createEscrow}.
    /// @param params The escrow parameters.
    /// @return The deterministic escrow address.
    function predictAddress(address payer, EscrowParams calldata params) external view returns (address);

    /// @notice The escrow implementation every clone delegates to. It cannot be initialised.
    function implementation() external view returns (address);
}
