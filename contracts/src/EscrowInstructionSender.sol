// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {
    IAxelarGateway
} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/interfaces/IAxelarGateway.sol";
import {
    IAxelarGasService
} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/interfaces/IAxelarGasService.sol";
import {AddressToString} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/libs/AddressString.sol";

import {IEscrowInstructionSender} from "./interfaces/IEscrowInstructionSender.sol";
import {EscrowInstruction} from "./libraries/EscrowInstruction.sol";

/// @title EscrowInstructionSender
/// @notice Lets the treasury (the owner, e.g. a multisig) on one chain instruct escrows held on another
///         chain: each instruction gets the next nonce of its (destination chain, handler) lane, is paid
///         for through Axelar's gas service and leaves through the Axelar gateway.
/// @dev Holds no funds: `msg.value` is forwarded to the gas service in the same call.
contract EscrowInstructionSender is IEscrowInstructionSender, Ownable2Step {
    using AddressToString for address;

    struct Sent {
        address escrow;
        EscrowInstruction.Kind kind;
    }

    IAxelarGateway public immutable gateway;
    IAxelarGasService public immutable gasService;

    mapping(bytes32 lane => uint64) public lastNonce;
    mapping(bytes32 lane => mapping(uint64 nonce => Sent)) private _sent;

    constructor(address gateway_, address gasService_, address owner_) Ownable(owner_) {
        if (gateway_ == address(0) || gasService_ == address(0)) revert ZeroAddress();
        gateway = IAxelarGateway(gateway_);
        gasService = IAxelarGasService(gasService_);
    }

    /// @inheritdoc IEscrowInstructionSender
    function send(
        string calldata destinationChain,
        address handler,
        address escrow,
        EscrowInstruction.Kind kind
    ) external payable onlyOwner returns (uint64 nonce) {
        if (handler == address(0) || escrow == address(0)) revert ZeroAddress();
        if (kind == EscrowInstruction.Kind.None) revert InvalidKind();
        bytes32 lane = laneOf(destinationChain, handler);
        nonce = ++lastNonce[lane];
        _sent[lane][nonce] = Sent(escrow, kind);
        _dispatch(destinationChain, handler, lane, nonce, escrow, kind, false);
    }

    /// @inheritdoc IEscrowInstructionSender
    function resend(string calldata destinationChain, address handler, uint64 nonce)
        external
        payable
        onlyOwner
    {
        bytes32 lane = laneOf(destinationChain, handler);
        Sent memory s = _sent[lane][nonce];
        if (s.escrow == address(0)) revert UnknownNonce(lane, nonce);
        _dispatch(destinationChain, handler, lane, nonce, s.escrow, s.kind, true);
    }

    /// @inheritdoc IEscrowInstructionSender
    function laneOf(string calldata destinationChain, address handler) public pure returns (bytes32) {
        return keccak256(abi.encode(destinationChain, handler));
    }

    /// @inheritdoc IEscrowInstructionSender
    function sentInstruction(bytes32 lane, uint64 nonce)
        external
        view
        returns (address escrow, EscrowInstruction.Kind kind)
    {
        Sent memory s = _sent[lane][nonce];
        return (s.escrow, s.kind);
    }

    function _dispatch(
        string calldata destinationChain,
        address handler,
        bytes32 lane,
        uint64 nonce,
        address escrow,
        EscrowInstruction.Kind kind,
        bool resent
    ) private {
        if (bytes(destinationChain).length == 0) revert EmptyDestinationChain();
        // Without prepaid gas Axelar approves the message but never executes it.
        if (msg.value == 0) revert GasPaymentRequired();
        bytes memory payload = EscrowInstruction.encode(nonce, kind, escrow);
        // The handler's address as Axelar carries it: 0x-prefixed lower-case hex.
        string memory destinationAddress = handler.toString();
        gasService.payNativeGasForContractCall{value: msg.value}(
            address(this), destinationChain, destinationAddress, payload, msg.sender
        );
        gateway.callContract(destinationChain, destinationAddress, payload);
        emit InstructionSent(
            escrow, lane, nonce, destinationChain, handler, kind, keccak256(payload), msg.value, resent
        );
    }
}
