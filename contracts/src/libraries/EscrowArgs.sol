// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {IEscrowFactory} from "../interfaces/IEscrowFactory.sol";

/// @title EscrowArgs
/// @notice Byte layout of the immutable arguments appended to every escrow clone's code.
/// @dev Packed, no padding; the clone's runtime code is the 45-byte EIP-1167 proxy followed by:
///
///   offset  size  field
///        0    20  payer
///       20    20  payee
///       40    20  token (address(0) = ETH)
///       60    20  arbiter (address(0) = none)
///       80    32  settlementRef
///      112     5  releaseTime (uint40)
///      117     5  deadline (uint40)
///      122     1  threshold (uint8)
///      123  20*N  approvers, N = (args length - 123) / 20
///
/// Parameters live in code, not storage: creating an escrow writes a single storage slot.
library EscrowArgs {
    uint256 internal constant PAYER = 0;
    uint256 internal constant PAYEE = 20;
    uint256 internal constant TOKEN = 40;
    uint256 internal constant ARBITER = 60;
    uint256 internal constant SETTLEMENT_REF = 80;
    uint256 internal constant RELEASE_TIME = 112;
    uint256 internal constant DEADLINE = 117;
    uint256 internal constant THRESHOLD = 122;
    uint256 internal constant APPROVERS = 123;
    /// @dev Length of the EIP-1167 proxy code that precedes the arguments.
    uint256 internal constant CLONE_CODE_SIZE = 0x2d;

    /// @notice Pack `payer` and `params` into the clone's immutable arguments.
    function encode(address payer, IEscrowFactory.EscrowParams calldata params)
        internal
        pure
        returns (bytes memory args)
    {
        address[] calldata list = params.approvers;
        uint256 n = list.length;
        bytes memory packedApprovers = new bytes(20 * n);
        for (uint256 i; i < n; ++i) {
            address a = list[i];
            // Writes 32 bytes; the 12 zero bytes past this entry are overwritten by the next
            // entry or land in unallocated memory after the array.
            assembly ("memory-safe") {
                mstore(add(add(packedApprovers, 0x20), mul(i, 20)), shl(96, a))
            }
        }
        args = abi.encodePacked(
            payer,
            params.payee,
            params.token,
            params.arbiter,
            params.settlementRef,
            params.releaseTime,
            params.deadline,
            params.threshold,
            packedApprovers
        );
    }
}
