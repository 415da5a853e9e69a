// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {EscrowInstruction} from "../libraries/EscrowInstruction.sol";

/// @title IEscrowInstructionSender
/// @notice Source-chain side of cross-chain escrow instructions over Axelar GMP (see contracts/README.md,
///         "Cross-chain instructions").
interface IEscrowInstructionSender {
    /// @notice An instruction left through the Axelar gateway (`callContract`), gas paid to the gas service.
    /// @param escrow The target escrow on the destination chain.
    /// @param lane keccak256(abi.encode(destinationChain, handler)): the nonce sequence this message is in.
    /// @param nonce The message's nonce in its lane (1, 2, 3, ...).
    /// @param handler The {EscrowInstructionHandler} on the destination chain.
    /// @param gasPaid Native value paid to Axelar's gas service for the destination execution.
    /// @param resent true for {resend} of an already assigned nonce.
    event InstructionSent(
        address indexed escrow,
        bytes32 indexed lane,
        uint64 indexed nonce,
        string destinationChain,
        address handler,
        EscrowInstruction.Kind kind,
        bytes32 payloadHash,
        uint256 gasPaid,
        bool resent
    );

    error ZeroAddress();
    error EmptyDestinationChain();
    error InvalidKind();
    error GasPaymentRequired();
    error UnknownNonce(bytes32 lane, uint64 nonce);

    /// @notice Sends `kind` for `escrow` to `handler` on `destinationChain` with the lane's next nonce.
    ///         Only the owner. `msg.value` (> 0) pays the destination gas through Axelar's gas service;
    ///         Axelar refunds any excess to the owner.
    /// @param destinationChain Axelar's registered name of the escrow chain, exactly (e.g. "ethereum-sepolia").
    function send(
        string calldata destinationChain,
        address handler,
        address escrow,
        EscrowInstruction.Kind kind
    ) external payable returns (uint64 nonce);

    /// @notice Sends an already assigned nonce again, with the same instruction. Only the owner. Safe at any
    ///         time: the handler accepts each nonce once and rejects any further copy as a replay. Use it
    ///         when a message was dropped before acceptance (e.g. the handler did not allowlist this
    ///         sender yet), which would otherwise leave later nonces deferred.
    function resend(string calldata destinationChain, address handler, uint64 nonce) external payable;

    /// @notice keccak256(abi.encode(destinationChain, handler)): the key of one nonce sequence.
    function laneOf(string calldata destinationChain, address handler) external pure returns (bytes32);

    /// @notice The last nonce assigned in `lane` (0 = none yet).
    function lastNonce(bytes32 lane) external view returns (uint64);

    /// @notice The instruction assigned to `nonce` in `lane` (escrow address(0) if none).
    function sentInstruction(bytes32 lane, uint64 nonce)
        external
        view
        returns (address escrow, EscrowInstruction.Kind kind);
}
