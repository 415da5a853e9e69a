// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IEscrow} from "../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../src/interfaces/IEscrowFactory.sol";

/// @notice The relayer decodes these events by topic 0: changing a signature must be deliberate
///         (update this test, contracts/README.md, escrow/abi/ and the relayer together).
contract EventSignaturesTest is Test {
    function test_eventTopics_stable() public pure {
        assertEq(
            IEscrowFactory.EscrowCreated.selector,
            keccak256(
                "EscrowCreated(address,bytes32,address,address,address,uint256,address,uint8,uint40,uint40,address[])"
            )
        );
        assertEq(
            IEscrowFactory.EscrowCreated.selector,
            0x4b016d769fead46c6efec5968e492fc10b4f039da22269b8dc3ae5af19f0c30e
        );
        assertEq(
            IEscrow.Deposited.selector, 0x3058c9982050baca4b61c4c19150229f108f491b297706a6e1d190eb8399a974
        );
        assertEq(
            IEscrow.Approved.selector, 0x109883a25aadcb228906061e90d3ef486591fc2d49ad5e04c50a3a4abb2e682f
        );
        assertEq(
            IEscrow.ApprovalRevoked.selector,
            0x6eeac7accd9a80e9eb065330f8fc6430488a8439df0568cab470c61ac4a3a9b2
        );
        assertEq(
            IEscrow.EmergencyRefundApproved.selector,
            0x90e0b2849f3f38d44c561dbc69212192df33c3a79346f72c0b2130e756dec55a
        );
        assertEq(
            IEscrow.EmergencyRefundApprovalRevoked.selector,
            0x009e3ca6b90b7293d7cd010bdb5f8451fc0091f53f15e23b5b594ee7c078bf17
        );
        assertEq(
            IEscrow.Released.selector, 0xc7e9d982d945c83437eb7541a45df1dfd524805d49598e97fc5b436f79a2794c
        );
        assertEq(
            IEscrow.Refunded.selector, 0x76dbf5fb57551d757289734a216066d3d5e9b76ecf457ed739c080e3a474c4bf
        );
        assertEq(
            IEscrow.EmergencyRefunded.selector,
            0x3ae113b398c3af0878599dbba8e9df0346836aab9955177214421230f3ad3322
        );
        assertEq(
            IEscrow.ArbiterDecided.selector,
            0xf2f66cb20c5936e352f402ab251e324fab3302fceb2e93212498d04d7c33ce8f
        );
        assertEq(
            IEscrow.Withdrawn.selector, 0x0ff23c4cdc2733f56d8f04d7a351c4332a1cd3334287ed5b2e9c6a28da9d3533
        );
    }
}
