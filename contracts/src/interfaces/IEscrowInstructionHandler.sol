// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {EscrowInstruction} from "../libraries/EscrowInstruction.sol";

/// @title IEscrowInstructionHandler
/// @notice Escrow-chain side of cross-chain escrow instructions over Axelar GMP (see contracts/README.md,
///         "Cross-chain instructions": message format, nonce rule, retries, trust model).
/// @dev Every message event has the same three topics: the target escrow, the source key
///      (keccak256(abi.encode(sourceChain, sourceAddress)) with the source as an EVM address, see
///      {sourceKeyOf}) and the nonce, so a reader can follow one escrow or one source lane.
interface IEscrowInstructionHandler {
    /// @notice State of a message of one source lane (see {messageStatus}).
    enum MessageStatus {
        Unknown, // never seen (or rejected: rejected messages are not stored)
        Deferred, // arrived ahead of its predecessor; runs through {retry} when it is next
        Executed, // accepted and executed on the escrow
        Failed, // accepted, the escrow call reverted; {retry} may run it again
        Superseded // failed, and a later message of the same source for the same escrow was accepted
    }

    /// @notice An allowlisted source's message was validated by the gateway and decoded.
    event MessageReceived(
        address indexed escrow,
        bytes32 indexed sourceKey,
        uint64 indexed nonce,
        bytes32 commandId,
        string sourceChain,
        string sourceAddress,
        EscrowInstruction.Kind kind
    );
    /// @notice A gateway-validated message was dropped (its command id is consumed; nothing else changed).
    /// @dev `escrow`, `nonce` and `kind` are set only for replays (allowlisted source, valid payload),
    ///      so a message from an unknown source can never attach itself to an escrow's timeline.
    ///      `sourceKey` is zero when `sourceAddress` is not an EVM address.
    event MessageRejected(
        address indexed escrow,
        bytes32 indexed sourceKey,
        uint64 indexed nonce,
        bytes32 commandId,
        string sourceChain,
        string sourceAddress,
        EscrowInstruction.Kind kind,
        EscrowInstruction.RejectReason reason
    );
    /// @notice The message's nonce is ahead of the next expected one; it is stored and runs through
    ///         {retry} once every earlier nonce of its source was accepted.
    event MessageDeferred(
        address indexed escrow,
        bytes32 indexed sourceKey,
        uint64 indexed nonce,
        EscrowInstruction.Kind kind,
        uint64 expectedNonce
    );
    /// @notice The instruction was executed on the escrow (on arrival or by {retry}).
    event InstructionExecuted(
        address indexed escrow, bytes32 indexed sourceKey, uint64 indexed nonce, EscrowInstruction.Kind kind
    );
    /// @notice The instruction was accepted (its nonce is used) but the escrow call reverted with
    ///         `reason` (the escrow's revert data, at most 256 bytes). It is stored for {retry}.
    event InstructionFailed(
        address indexed escrow,
        bytes32 indexed sourceKey,
        uint64 indexed nonce,
        EscrowInstruction.Kind kind,
        bytes reason
    );
    /// @notice The owner allowed or removed a source.
    event SourceSet(bytes32 indexed sourceKey, string sourceChain, address sourceAddress, bool allowed);

    error ZeroAddress();
    error EmptySourceChain();
    error SourceNotAllowed(bytes32 sourceKey);
    error NothingToRetry(bytes32 sourceKey, uint64 nonce);
    error NotNextNonce(bytes32 sourceKey, uint64 nonce, uint64 expectedNonce);
    error SupersededMessage(bytes32 sourceKey, uint64 nonce, uint64 latestNonceForEscrow);
    error RetryFailed(bytes reason);
    error InsufficientGas(uint256 gasLeft, uint256 required);
    /// @notice Recorded as the failure reason when the target escrow has no code (yet).
    error EscrowHasNoCode(address escrow);

    /// @notice Allow (`allowed`) or remove a source. Only the owner. Nonces survive removal: re-allowing
    ///         a source continues its lane, so nothing can be replayed.
    function setSource(string calldata sourceChain, address sourceAddress, bool allowed) external;

    /// @notice Run a stored message again. Anyone may call.
    ///         - Failed: only while not superseded; reverts with {RetryFailed} (changing nothing) if the
    ///           escrow call still reverts, emits {InstructionExecuted} on success.
    ///         - Deferred: only when its nonce is the next expected one; it is then accepted exactly as on
    ///           arrival (executed, or recorded as failed with {InstructionFailed}).
    ///         The source must still be allowlisted.
    function retry(bytes32 sourceKey, uint64 nonce) external;

    /// @notice keccak256(abi.encode(sourceChain, sourceAddress)): the key of one source lane.
    function sourceKeyOf(string calldata sourceChain, address sourceAddress) external pure returns (bytes32);

    function isSourceAllowed(bytes32 sourceKey) external view returns (bool);

    /// @notice The last accepted nonce of a source (0 = none); the next expected one is this + 1.
    function lastNonce(bytes32 sourceKey) external view returns (uint64);

    /// @notice The last accepted nonce of a source for one escrow (0 = none).
    function latestNonceForEscrow(bytes32 sourceKey, address escrow) external view returns (uint64);

    function messageStatus(bytes32 sourceKey, uint64 nonce) external view returns (MessageStatus);

    /// @notice A stored (deferred or failed) message; escrow address(0) if none is stored.
    function storedMessage(bytes32 sourceKey, uint64 nonce)
        external
        view
        returns (address escrow, EscrowInstruction.Kind kind);
}
