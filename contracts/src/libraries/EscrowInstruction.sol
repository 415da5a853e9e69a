// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {IEscrow} from "../interfaces/IEscrow.sol";

/// @title EscrowInstruction
/// @notice Wire format of a cross-chain escrow instruction (Axelar GMP payload), shared by
///         {EscrowInstructionSender} and {EscrowInstructionHandler}.
/// @dev The payload is exactly `abi.encode(uint8 version, uint64 nonce, uint8 kind, address escrow)`:
///      four 32-byte words, 128 bytes. Decoding is strict (exact length, no dirty high bits) and never
///      reverts, so the handler can reject a bad payload with an event instead of reverting.
library EscrowInstruction {
    /// @notice What the handler does on the target escrow. Values are part of the wire format.
    /// @dev `None` (0) is never valid, so an all-zero payload is rejected.
    enum Kind {
        None,
        Approve, // escrow.approve()
        RevokeApproval, // escrow.revokeApproval()
        ApproveEmergencyRefund, // escrow.approveEmergencyRefund()
        RevokeEmergencyRefundApproval, // escrow.revokeEmergencyRefundApproval()
        ArbiterRelease, // escrow.arbiterDecide(true)
        ArbiterRefund, // escrow.arbiterDecide(false)
        Release // escrow.release() (permissionless on the escrow; pays only the payee)
    }

    /// @notice Why the handler dropped a message. Values are part of the event ABI.
    enum RejectReason {
        None,
        SourceNotAllowed, // (source chain, source address) not on the allowlist, or not an EVM address
        MalformedPayload, // wrong length, dirty high bits, nonce 0 or escrow address(0)
        UnsupportedVersion, // first word is not VERSION
        UnknownKind, // kind outside 1..7
        Replay // nonce already accepted or already waiting (deferred) for this source
    }

    uint8 internal constant VERSION = 1;
    uint256 internal constant PAYLOAD_LENGTH = 128;
    uint8 internal constant MAX_KIND = uint8(Kind.Release);

    function encode(uint64 nonce, Kind kind, address escrow) internal pure returns (bytes memory) {
        return abi.encode(VERSION, nonce, kind, escrow);
    }

    /// @notice Strictly decodes `payload`; `reason` is `None` exactly when the payload is valid.
    function decode(bytes calldata payload)
        internal
        pure
        returns (uint64 nonce, Kind kind, address escrow, RejectReason reason)
    {
        if (payload.length != PAYLOAD_LENGTH) {
            return (0, Kind.None, address(0), RejectReason.MalformedPayload);
        }
        (uint256 version, uint256 rawNonce, uint256 rawKind, uint256 rawEscrow) =
            abi.decode(payload, (uint256, uint256, uint256, uint256));
        if (version != VERSION) return (0, Kind.None, address(0), RejectReason.UnsupportedVersion);
        if (rawNonce == 0 || rawNonce > type(uint64).max || rawEscrow == 0 || rawEscrow > type(uint160).max) {
            return (0, Kind.None, address(0), RejectReason.MalformedPayload);
        }
        nonce = uint64(rawNonce);
        escrow = address(uint160(rawEscrow));
        if (rawKind == 0 || rawKind > MAX_KIND) return (nonce, Kind.None, escrow, RejectReason.UnknownKind);
        kind = Kind(uint8(rawKind));
    }

    /// @notice The call the handler makes on the escrow for `kind` (a valid kind, not `None`).
    function escrowCall(Kind kind) internal pure returns (bytes memory) {
        if (kind == Kind.Approve) return abi.encodeCall(IEscrow.approve, ());
        if (kind == Kind.RevokeApproval) return abi.encodeCall(IEscrow.revokeApproval, ());
        if (kind == Kind.ApproveEmergencyRefund) return abi.encodeCall(IEscrow.approveEmergencyRefund, ());
        if (kind == Kind.RevokeEmergencyRefundApproval) {
            return abi.encodeCall(IEscrow.revokeEmergencyRefundApproval, ());
        }
        if (kind == Kind.ArbiterRelease) return abi.encodeCall(IEscrow.arbiterDecide, (true));
        if (kind == Kind.ArbiterRefund) return abi.encodeCall(IEscrow.arbiterDecide, (false));
        return abi.encodeCall(IEscrow.release, ());
    }
}
