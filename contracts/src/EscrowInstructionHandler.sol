// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {
    AxelarExecutable
} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/executable/AxelarExecutable.sol";

import {IEscrowInstructionHandler} from "./interfaces/IEscrowInstructionHandler.sol";
import {EscrowInstruction} from "./libraries/EscrowInstruction.sol";

/// @title EscrowInstructionHandler
/// @notice Executes escrow instructions that arrive through Axelar GMP from allowlisted
///         (source chain, source address) pairs. The handler is an approver and/or the arbiter of the
///         escrows it serves, so a message can do on an escrow exactly what that role allows.
/// @dev Flow: `execute` (AxelarExecutable) has the gateway validate and consume the command id, then
///      {_execute} authenticates the source, decodes the payload and applies the nonce rule:
///      - each source has one lane of nonces 1, 2, 3, ...; a message is accepted when its nonce is the
///        next one. Acceptance uses the nonce whether or not the escrow call succeeds, so one failing
///        instruction never blocks the lane;
///      - a nonce already accepted (or already deferred) is a replay: rejected;
///      - a nonce ahead of the next one is stored as deferred and runs through {retry} in its turn;
///      - a failed instruction is stored; anyone may {retry} it while it is still the latest accepted
///        instruction of its source for that escrow. A later accepted instruction for the same escrow
///        supersedes it, so on each escrow a source's instructions take effect in nonce order.
///      Dropped messages are never stored; every outcome emits an event.
contract EscrowInstructionHandler is
    IEscrowInstructionHandler,
    AxelarExecutable,
    Ownable2Step,
    ReentrancyGuardTransient
{
    enum Stored {
        None,
        Deferred,
        Failed
    }

    struct Instruction {
        uint64 nonce;
        EscrowInstruction.Kind kind;
        address escrow;
    }

    struct StoredMessage {
        address escrow;
        EscrowInstruction.Kind kind;
        Stored state;
    }

    /// @dev Gas an escrow call must be able to use. An escrow payout alone needs 120,000 at the push;
    ///      without this floor anyone could execute a message with too little gas to make it fail.
    uint256 public constant MIN_ESCROW_CALL_GAS = 200_000;
    /// @dev Gas kept back from the escrow call to record a failure (storage write + event).
    uint256 internal constant POST_CALL_GAS = 60_000;
    /// @dev Revert data longer than this is cut in {InstructionFailed} (and never copied whole).
    uint256 internal constant MAX_REASON_BYTES = 256;

    mapping(bytes32 sourceKey => bool) public isSourceAllowed;
    mapping(bytes32 sourceKey => uint64) public lastNonce;
    mapping(bytes32 sourceKey => mapping(address escrow => uint64)) public latestNonceForEscrow;
    mapping(bytes32 sourceKey => mapping(uint64 nonce => StoredMessage)) private _stored;

    constructor(address gateway_, address owner_) AxelarExecutable(gateway_) Ownable(owner_) {}

    // ------------------------------------------------------------------ owner

    /// @inheritdoc IEscrowInstructionHandler
    function setSource(string calldata sourceChain, address sourceAddress, bool allowed) external onlyOwner {
        if (bytes(sourceChain).length == 0) revert EmptySourceChain();
        if (sourceAddress == address(0)) revert ZeroAddress();
        bytes32 key = sourceKeyOf(sourceChain, sourceAddress);
        isSourceAllowed[key] = allowed;
        emit SourceSet(key, sourceChain, sourceAddress, allowed);
    }

    // ------------------------------------------------------------------ messages

    /// @dev Called by AxelarExecutable.execute after the gateway validated (and consumed) `commandId`.
    ///      Returns normally for every outcome except too little gas, which reverts so the command stays
    ///      approved at the gateway and can be executed again.
    function _execute(
        bytes32 commandId,
        string calldata sourceChain,
        string calldata sourceAddress,
        bytes calldata payload
    ) internal override nonReentrant {
        (bytes32 key, bool allowed) = _authenticate(sourceChain, sourceAddress);
        if (!allowed) {
            return _reject(
                commandId,
                sourceChain,
                sourceAddress,
                key,
                _none(),
                EscrowInstruction.RejectReason.SourceNotAllowed
            );
        }
        (uint64 nonce, EscrowInstruction.Kind kind, address escrow, EscrowInstruction.RejectReason bad) =
            EscrowInstruction.decode(payload);
        if (bad != EscrowInstruction.RejectReason.None) {
            return _reject(commandId, sourceChain, sourceAddress, key, _none(), bad);
        }
        _route(commandId, sourceChain, sourceAddress, key, Instruction(nonce, kind, escrow));
    }

    /// @dev The nonce rule for an authenticated, well-formed message.
    function _route(
        bytes32 commandId,
        string calldata sourceChain,
        string calldata sourceAddress,
        bytes32 key,
        Instruction memory ins
    ) private {
        uint64 expected = lastNonce[key] + 1;
        if (ins.nonce < expected || _stored[key][ins.nonce].state != Stored.None) {
            return
                _reject(
                    commandId, sourceChain, sourceAddress, key, ins, EscrowInstruction.RejectReason.Replay
                );
        }
        emit MessageReceived(ins.escrow, key, ins.nonce, commandId, sourceChain, sourceAddress, ins.kind);
        if (ins.nonce > expected) {
            _stored[key][ins.nonce] = StoredMessage(ins.escrow, ins.kind, Stored.Deferred);
            emit MessageDeferred(ins.escrow, key, ins.nonce, ins.kind, expected);
            return;
        }
        _accept(key, ins.nonce, ins.kind, ins.escrow);
    }

    /// @inheritdoc IEscrowInstructionHandler
    function retry(bytes32 sourceKey, uint64 nonce) external nonReentrant {
        StoredMessage memory m = _stored[sourceKey][nonce];
        if (m.state == Stored.None) revert NothingToRetry(sourceKey, nonce);
        if (!isSourceAllowed[sourceKey]) revert SourceNotAllowed(sourceKey);
        if (m.state == Stored.Deferred) {
            uint64 expected = lastNonce[sourceKey] + 1;
            if (nonce != expected) revert NotNextNonce(sourceKey, nonce, expected);
            delete _stored[sourceKey][nonce];
            _accept(sourceKey, nonce, m.kind, m.escrow);
            return;
        }
        uint64 latest = latestNonceForEscrow[sourceKey][m.escrow];
        if (latest != nonce) revert SupersededMessage(sourceKey, nonce, latest);
        (bool ok, bytes memory reason) = _callEscrow(m.escrow, m.kind);
        if (!ok) revert RetryFailed(reason);
        delete _stored[sourceKey][nonce];
        emit InstructionExecuted(m.escrow, sourceKey, nonce, m.kind);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEscrowInstructionHandler
    function sourceKeyOf(string calldata sourceChain, address sourceAddress) public pure returns (bytes32) {
        return keccak256(abi.encode(sourceChain, sourceAddress));
    }

    /// @inheritdoc IEscrowInstructionHandler
    function messageStatus(bytes32 sourceKey, uint64 nonce) external view returns (MessageStatus) {
        StoredMessage memory m = _stored[sourceKey][nonce];
        if (m.state == Stored.Deferred) return MessageStatus.Deferred;
        if (m.state == Stored.Failed) {
            return latestNonceForEscrow[sourceKey][m.escrow] == nonce
                ? MessageStatus.Failed
                : MessageStatus.Superseded;
        }
        // Accepted messages are only stored while failed: accepted and not stored = executed.
        if (nonce != 0 && nonce <= lastNonce[sourceKey]) return MessageStatus.Executed;
        return MessageStatus.Unknown;
    }

    /// @inheritdoc IEscrowInstructionHandler
    function storedMessage(bytes32 sourceKey, uint64 nonce)
        external
        view
        returns (address escrow, EscrowInstruction.Kind kind)
    {
        StoredMessage memory m = _stored[sourceKey][nonce];
        return (m.escrow, m.kind);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Uses the nonce, then runs the instruction; a revert of the escrow is stored, not propagated.
    function _accept(bytes32 key, uint64 nonce, EscrowInstruction.Kind kind, address escrow) private {
        lastNonce[key] = nonce;
        latestNonceForEscrow[key][escrow] = nonce;
        (bool ok, bytes memory reason) = _callEscrow(escrow, kind);
        if (ok) {
            emit InstructionExecuted(escrow, key, nonce, kind);
        } else {
            _stored[key][nonce] = StoredMessage(escrow, kind, Stored.Failed);
            emit InstructionFailed(escrow, key, nonce, kind, reason);
        }
    }

    /// @dev Strings in memory: with calldata strings this event does not fit the legacy stack.
    function _reject(
        bytes32 commandId,
        string memory sourceChain,
        string memory sourceAddress,
        bytes32 key,
        Instruction memory ins,
        EscrowInstruction.RejectReason reason
    ) private {
        emit MessageRejected(
            ins.escrow, key, ins.nonce, commandId, sourceChain, sourceAddress, ins.kind, reason
        );
    }

    function _none() private pure returns (Instruction memory) {
        return Instruction(0, EscrowInstruction.Kind.None, address(0));
    }

    /// @dev Calls the escrow without copying more than MAX_REASON_BYTES of revert data (an address from a
    ///      forged payload could return a huge blob). Too little gas reverts the whole transaction.
    function _callEscrow(address escrow, EscrowInstruction.Kind kind)
        private
        returns (bool ok, bytes memory reason)
    {
        // A high-level call would revert on a missing contract instead of returning false.
        if (escrow.code.length == 0) {
            return (false, abi.encodeWithSelector(EscrowHasNoCode.selector, escrow));
        }
        uint256 available = gasleft();
        if (available < MIN_ESCROW_CALL_GAS + POST_CALL_GAS) {
            revert InsufficientGas(available, MIN_ESCROW_CALL_GAS + POST_CALL_GAS);
        }
        bytes memory data = EscrowInstruction.escrowCall(kind);
        uint256 callGas = available - POST_CALL_GAS;
        uint256 maxReason = MAX_REASON_BYTES;
        assembly ("memory-safe") {
            ok := call(callGas, escrow, 0, add(data, 0x20), mload(data), 0, 0)
            let size := returndatasize()
            if gt(size, maxReason) { size := maxReason }
            reason := mload(0x40)
            mstore(reason, size)
            returndatacopy(add(reason, 0x20), 0, size)
            mstore(0x40, add(add(reason, 0x20), and(add(size, 0x1f), not(0x1f))))
        }
        if (ok) reason = "";
    }

    /// @dev The source's lane key and whether it is allowlisted; a source address that is not an EVM
    ///      address is never allowed (key 0).
    function _authenticate(string calldata sourceChain, string calldata sourceAddress)
        private
        view
        returns (bytes32 key, bool allowed)
    {
        (bool parsed, address sender) = _parseAddress(sourceAddress);
        if (!parsed) return (bytes32(0), false);
        key = sourceKeyOf(sourceChain, sender);
        allowed = isSourceAllowed[key];
    }

    /// @dev Parses a 0x-prefixed 40-digit hex string (any letter case); false for anything else, so a
    ///      non-EVM or garbled source address is rejected rather than reverting.
    function _parseAddress(string calldata text) private pure returns (bool ok, address parsed) {
        bytes calldata b = bytes(text);
        if (b.length != 42 || b[0] != "0" || (b[1] != "x" && b[1] != "X")) return (false, address(0));
        uint160 value;
        for (uint256 i = 2; i < 42; ++i) {
            uint8 c = uint8(b[i]);
            uint8 digit;
            if (c >= 48 && c <= 57) digit = c - 48;
            else if (c >= 97 && c <= 102) digit = c - 87;
            else if (c >= 65 && c <= 70) digit = c - 55;
            else return (false, address(0));
            value = (value << 4) | digit;
        }
        return (true, address(value));
    }
}
