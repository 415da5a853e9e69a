// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {
    IAxelarExecutable
} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/interfaces/IAxelarExecutable.sol";

import {Escrow} from "../../src/Escrow.sol";
import {EscrowInstructionHandler} from "../../src/EscrowInstructionHandler.sol";
import {IEscrow} from "../../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../../src/interfaces/IEscrowFactory.sol";
import {IEscrowInstructionHandler} from "../../src/interfaces/IEscrowInstructionHandler.sol";
import {EscrowInstruction} from "../../src/libraries/EscrowInstruction.sol";
import {CrossChainTestBase} from "./CrossChainTestBase.sol";

/// @dev Reverts with `size` bytes of revert data (a target that tries to blow up the handler's memory).
contract LoudReverter {
    fallback() external {
        assembly {
            revert(0, 10000)
        }
    }
}

/// @dev Calls the library with calldata bytes, as the handler does.
contract InstructionDecoder {
    function decode(bytes calldata payload)
        external
        pure
        returns (uint64, EscrowInstruction.Kind, address, EscrowInstruction.RejectReason)
    {
        return EscrowInstruction.decode(payload);
    }
}

/// @dev A payee that tries to re-enter the handler while being paid (and records the outcome).
contract ReenteringPayee {
    IEscrowInstructionHandler internal immutable handler;
    bytes32 internal key;
    bool public reentryBlocked;

    constructor(IEscrowInstructionHandler handler_) {
        handler = handler_;
    }

    function arm(bytes32 key_) external {
        key = key_;
    }

    receive() external payable {
        try handler.retry(key, 1) {}
        catch (bytes memory reason) {
            reentryBlocked = bytes4(reason) == bytes4(keccak256("ReentrancyGuardReentrantCall()"));
        }
    }
}

contract EscrowInstructionHandlerTest is CrossChainTestBase {
    Escrow internal escrow;
    InstructionDecoder internal decoder;

    function setUp() public override {
        super.setUp();
        escrow = _crossChainEscrow();
        decoder = new InstructionDecoder();
    }

    function _status(uint64 nonce) internal view returns (IEscrowInstructionHandler.MessageStatus) {
        return handler.messageStatus(sourceKey, nonce);
    }

    function _assertStatus(uint64 nonce, IEscrowInstructionHandler.MessageStatus expected) internal view {
        assertEq(uint8(_status(nonce)), uint8(expected), "message status");
    }

    // ------------------------------------------------------------------ gateway validation

    function test_execute_withoutGatewayApproval_reverts() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        vm.expectRevert(IAxelarExecutable.NotApprovedByGateway.selector);
        handler.execute(keccak256("never approved"), SOURCE_CHAIN, _senderString(), payload);
        assertEq(handler.lastNonce(sourceKey), 0);
    }

    function test_execute_commandIdConsumedOnce() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        bytes32 commandId = _deliver(_senderString(), payload);
        assertTrue(destGateway.isCommandExecuted(commandId));
        assertTrue(escrow.hasApproved(address(handler)));

        vm.expectRevert(IAxelarExecutable.NotApprovedByGateway.selector);
        handler.execute(commandId, SOURCE_CHAIN, _senderString(), payload);
    }

    function test_execute_mismatchedApproval_reverts() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        bytes memory other = _payload(1, EscrowInstruction.Kind.ArbiterRelease, address(escrow));
        bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, _senderString(), payload);

        vm.expectRevert(IAxelarExecutable.NotApprovedByGateway.selector);
        handler.execute(commandId, SOURCE_CHAIN, _senderString(), other); // other payload
        vm.expectRevert(IAxelarExecutable.NotApprovedByGateway.selector);
        handler.execute(commandId, "avalanche-fuji", _senderString(), payload); // other chain
        vm.expectRevert(IAxelarExecutable.NotApprovedByGateway.selector);
        handler.execute(commandId, SOURCE_CHAIN, vm.toString(stranger), payload); // other source

        // approved for another destination contract: the handler cannot consume it
        bytes32 elsewhere = keccak256("elsewhere");
        destGateway.approveContractCall(
            elsewhere, SOURCE_CHAIN, _senderString(), stranger, keccak256(payload)
        );
        vm.expectRevert(IAxelarExecutable.NotApprovedByGateway.selector);
        handler.execute(elsewhere, SOURCE_CHAIN, _senderString(), payload);

        // the real one still works
        handler.execute(commandId, SOURCE_CHAIN, _senderString(), payload);
        assertTrue(escrow.hasApproved(address(handler)));
    }

    // ------------------------------------------------------------------ allowlist

    function test_allowlist_unknownSourceAddress_rejected() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.ArbiterRelease, address(escrow));
        string memory from = vm.toString(stranger);
        bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, from, payload);

        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.MessageRejected(
            address(0),
            handler.sourceKeyOf(SOURCE_CHAIN, stranger),
            0,
            commandId,
            SOURCE_CHAIN,
            from,
            EscrowInstruction.Kind.None,
            EscrowInstruction.RejectReason.SourceNotAllowed
        );
        handler.execute(commandId, SOURCE_CHAIN, from, payload);

        _assertFunded(escrow, AMOUNT);
        assertTrue(destGateway.isCommandExecuted(commandId), "a rejected command is consumed");
        assertEq(handler.lastNonce(handler.sourceKeyOf(SOURCE_CHAIN, stranger)), 0);
    }

    function test_allowlist_sameAddressOtherChain_rejected() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        vm.recordLogs();
        _deliverFrom("avalanche-fuji", _senderString(), payload);
        _assertOnlyRejection(EscrowInstruction.RejectReason.SourceNotAllowed);
        assertFalse(escrow.hasApproved(address(handler)));
        assertEq(handler.lastNonce(sourceKey), 0);
    }

    function test_allowlist_nonEvmSourceAddress_rejectedWithZeroKey() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        string[4] memory bad = [
            "axelar1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
            "0x123",
            "0xZZ9FD6E51AAD88F6F4CE6AB8827279CFFFB92266",
            string.concat("1x", vm.replace(_senderString(), "0x", ""))
        ];
        for (uint256 i; i < bad.length; ++i) {
            bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, bad[i], payload);
            vm.expectEmit(address(handler));
            emit IEscrowInstructionHandler.MessageRejected(
                address(0),
                bytes32(0),
                0,
                commandId,
                SOURCE_CHAIN,
                bad[i],
                EscrowInstruction.Kind.None,
                EscrowInstruction.RejectReason.SourceNotAllowed
            );
            handler.execute(commandId, SOURCE_CHAIN, bad[i], payload);
        }
        assertEq(escrow.approvalCount(), 0);
    }

    function test_allowlist_sourceAddressLetterCaseIgnored() public {
        Escrow other = _crossChainEscrow(keccak256("other"));
        _deliver(
            vm.toLowercase(_senderString()), _payload(1, EscrowInstruction.Kind.Approve, address(escrow))
        );
        _deliver(_senderString(), _payload(2, EscrowInstruction.Kind.Approve, address(other)));
        _deliver(
            string.concat("0X", vm.replace(vm.toUppercase(_senderString()), "0X", "")),
            _payload(3, EscrowInstruction.Kind.ApproveEmergencyRefund, address(escrow))
        );
        assertEq(handler.lastNonce(sourceKey), 3);
        assertTrue(escrow.hasApproved(address(handler)));
        assertTrue(other.hasApproved(address(handler)));
        assertTrue(escrow.hasApprovedEmergencyRefund(address(handler)));
    }

    function test_allowlist_removedSource_rejected_reallowedContinuesLane() public {
        _send(address(escrow), EscrowInstruction.Kind.Approve);
        _relayLast();

        vm.prank(admin);
        handler.setSource(SOURCE_CHAIN, address(sender), false);
        _send(address(escrow), EscrowInstruction.Kind.RevokeApproval); // nonce 2
        vm.recordLogs();
        _relayLast();
        _assertOnlyRejection(EscrowInstruction.RejectReason.SourceNotAllowed);
        assertTrue(escrow.hasApproved(address(handler)));

        // Re-allowed: the lane continues at 2 (nonce 1 cannot come back) and the treasury resends 2.
        vm.prank(admin);
        handler.setSource(SOURCE_CHAIN, address(sender), true);
        _relay(0);
        assertEq(escrow.approvalCount(), 1, "replay of nonce 1 after re-allowing changed nothing");
        vm.prank(treasury);
        sender.resend{value: GAS_FEE}(DEST_CHAIN, address(handler), 2);
        _relayLast();
        assertFalse(escrow.hasApproved(address(handler)));
        assertEq(handler.lastNonce(sourceKey), 2);
    }

    function test_setSource_onlyOwner_validated_emits() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        handler.setSource(SOURCE_CHAIN, stranger, true);

        vm.startPrank(admin);
        vm.expectRevert(IEscrowInstructionHandler.EmptySourceChain.selector);
        handler.setSource("", stranger, true);
        vm.expectRevert(IEscrowInstructionHandler.ZeroAddress.selector);
        handler.setSource(SOURCE_CHAIN, address(0), true);

        bytes32 key = handler.sourceKeyOf("avalanche-fuji", stranger);
        assertEq(key, keccak256(abi.encode("avalanche-fuji", stranger)));
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.SourceSet(key, "avalanche-fuji", stranger, true);
        handler.setSource("avalanche-fuji", stranger, true);
        vm.stopPrank();
        assertTrue(handler.isSourceAllowed(key));
    }

    function test_ownership_isTwoStep() public {
        vm.prank(admin);
        handler.transferOwnership(stranger);
        assertEq(handler.owner(), admin);
        vm.prank(stranger);
        handler.acceptOwnership();
        assertEq(handler.owner(), stranger);
    }

    // ------------------------------------------------------------------ payloads

    function test_badPayloads_rejectedWithReason_laneUntouched() public {
        address e = address(escrow);
        bytes memory valid = _payload(1, EscrowInstruction.Kind.Approve, e);
        bytes[] memory payloads = new bytes[](11);
        EscrowInstruction.RejectReason[] memory reasons = new EscrowInstruction.RejectReason[](11);
        EscrowInstruction.RejectReason malformed = EscrowInstruction.RejectReason.MalformedPayload;
        (payloads[0], reasons[0]) = ("", malformed);
        (payloads[1], reasons[1]) = (_slice(valid, 127), malformed);
        (payloads[2], reasons[2]) = (bytes.concat(valid, bytes32(0)), malformed);
        (payloads[3], reasons[3]) =
        (abi.encode(uint256(2), uint256(1), uint256(1), e), EscrowInstruction.RejectReason.UnsupportedVersion);
        (payloads[4], reasons[4]) = (abi.encode(uint256(1), uint256(0), uint256(1), e), malformed);
        (payloads[5], reasons[5]) = (abi.encode(uint256(1), uint256(1) << 64, uint256(1), e), malformed);
        (payloads[6], reasons[6]) =
        (abi.encode(uint256(1), uint256(1), uint256(0), e), EscrowInstruction.RejectReason.UnknownKind);
        (payloads[7], reasons[7]) =
        (abi.encode(uint256(1), uint256(1), uint256(8), e), EscrowInstruction.RejectReason.UnknownKind);
        (payloads[8], reasons[8]) = (abi.encode(uint256(1), uint256(1), uint256(1), address(0)), malformed);
        (payloads[9], reasons[9]) =
        (abi.encode(uint256(1), uint256(1), uint256(1), uint256(uint160(e)) | (1 << 200)), malformed);
        (payloads[10], reasons[10]) = (abi.encodePacked(uint8(1), uint64(1), uint8(1), e), malformed); // packed, not abi.encode
        for (uint256 i; i < payloads.length; ++i) {
            bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, _senderString(), payloads[i]);
            vm.expectEmit(address(handler));
            emit IEscrowInstructionHandler.MessageRejected(
                address(0),
                sourceKey,
                0,
                commandId,
                SOURCE_CHAIN,
                _senderString(),
                EscrowInstruction.Kind.None,
                reasons[i]
            );
            handler.execute(commandId, SOURCE_CHAIN, _senderString(), payloads[i]);
            assertTrue(destGateway.isCommandExecuted(commandId));
        }
        assertEq(handler.lastNonce(sourceKey), 0);
        assertEq(escrow.eventCount(), 1, "the escrow saw nothing");

        _deliver(_senderString(), valid);
        assertTrue(escrow.hasApproved(address(handler)), "nonce 1 is still the next one");
    }

    /// @dev Any bytes from an allowlisted source: execute never reverts, and the message is accepted
    ///      only if it is a strict encoding (and then it is deferred unless its nonce is 1).
    function testFuzz_arbitraryPayload_neverReverts(bytes calldata payload) public {
        (uint64 nonce,,, EscrowInstruction.RejectReason reason) = decoder.decode(payload);
        bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, _senderString(), payload);
        handler.execute(commandId, SOURCE_CHAIN, _senderString(), payload);
        bool valid = reason == EscrowInstruction.RejectReason.None;
        assertEq(handler.lastNonce(sourceKey), valid && nonce == 1 ? 1 : 0);
        if (valid && nonce > 1) _assertStatus(nonce, IEscrowInstructionHandler.MessageStatus.Deferred);
    }

    /// @dev Structured fuzz of the four words: exactly the documented ranges are accepted.
    function testFuzz_payloadWords(uint256 version, uint256 nonce, uint256 kind, uint256 target) public view {
        version = bound(version, 0, 3);
        nonce = _pick(nonce, type(uint64).max);
        kind = bound(kind, 0, 9);
        target = _pick(target, type(uint160).max);
        bytes memory payload = abi.encode(version, nonce, kind, target);
        (uint64 n, EscrowInstruction.Kind k, address e, EscrowInstruction.RejectReason reason) =
            decoder.decode(payload);
        EscrowInstruction.RejectReason expected;
        if (version != 1) {
            expected = EscrowInstruction.RejectReason.UnsupportedVersion;
        } else if (nonce == 0 || nonce > type(uint64).max || target == 0 || target > type(uint160).max) {
            expected = EscrowInstruction.RejectReason.MalformedPayload;
        } else if (kind == 0 || kind > 7) {
            expected = EscrowInstruction.RejectReason.UnknownKind;
        }
        assertEq(uint8(reason), uint8(expected));
        if (expected == EscrowInstruction.RejectReason.None) {
            assertEq(n, nonce);
            assertEq(uint8(k), kind);
            assertEq(uint160(e), target);
            assertEq(payload, EscrowInstruction.encode(n, k, e), "canonical encoding");
        }
    }

    /// @dev Values around the range edges are more interesting than uniform 256-bit noise.
    function _pick(uint256 seed, uint256 max) internal pure returns (uint256) {
        uint256 mode = seed % 4;
        if (mode == 0) return 0;
        if (mode == 1) return max;
        if (mode == 2) return max + 1 + (seed >> 200);
        return bound(seed >> 2, 1, max);
    }

    // ------------------------------------------------------------------ replay

    function test_replay_sameNonceAgain_rejected() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        _deliver(_senderString(), payload);
        assertEq(escrow.approvalCount(), 1);

        bytes32 again = _approveAtGateway(SOURCE_CHAIN, _senderString(), payload); // a fresh command id
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.MessageRejected(
            address(escrow),
            sourceKey,
            1,
            again,
            SOURCE_CHAIN,
            _senderString(),
            EscrowInstruction.Kind.Approve,
            EscrowInstruction.RejectReason.Replay
        );
        handler.execute(again, SOURCE_CHAIN, _senderString(), payload);
        assertEq(escrow.approvalCount(), 1);
        assertEq(escrow.eventCount(), 2);
    }

    function test_replay_ofRevokedApproval_cannotReapprove() public {
        // The attack replay protection is for: re-playing an old "approve" after a "revoke".
        bytes memory approvePayload = _payload(1, EscrowInstruction.Kind.Approve, address(escrow));
        _deliver(_senderString(), approvePayload);
        _deliver(_senderString(), _payload(2, EscrowInstruction.Kind.RevokeApproval, address(escrow)));
        vm.recordLogs();
        _deliver(_senderString(), approvePayload);
        _assertOnlyRejection(EscrowInstruction.RejectReason.Replay);
        assertFalse(escrow.hasApproved(address(handler)));
    }

    function test_replay_ofDeferredAndOfFailedNonce_rejected() public {
        bytes memory deferred = _payload(2, EscrowInstruction.Kind.Approve, address(escrow));
        _deliver(_senderString(), deferred);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Deferred);
        vm.recordLogs();
        _deliver(_senderString(), deferred);
        _assertOnlyRejection(EscrowInstruction.RejectReason.Replay);

        bytes memory failing = _payload(1, EscrowInstruction.Kind.Release, address(escrow)); // timelock
        _deliver(_senderString(), failing);
        _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Failed);
        vm.recordLogs();
        _deliver(_senderString(), failing);
        _assertOnlyRejection(EscrowInstruction.RejectReason.Replay);
    }

    // ------------------------------------------------------------------ nonce order

    function test_outOfOrder_deferred_thenRetriedInTurn() public {
        _send(address(escrow), EscrowInstruction.Kind.Approve); // 1
        _send(address(escrow), EscrowInstruction.Kind.RevokeApproval); // 2

        (bytes32 commandId, string memory from, bytes memory payload) = _approveRelay(1);
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.MessageDeferred(
            address(escrow), sourceKey, 2, EscrowInstruction.Kind.RevokeApproval, 1
        );
        handler.execute(commandId, SOURCE_CHAIN, from, payload);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Deferred);
        assertEq(handler.lastNonce(sourceKey), 0);
        (address storedEscrow, EscrowInstruction.Kind storedKind) = handler.storedMessage(sourceKey, 2);
        assertEq(storedEscrow, address(escrow));
        assertEq(uint8(storedKind), uint8(EscrowInstruction.Kind.RevokeApproval));

        vm.expectRevert(
            abi.encodeWithSelector(IEscrowInstructionHandler.NotNextNonce.selector, sourceKey, 2, 1)
        );
        handler.retry(sourceKey, 2);

        _relay(0);
        assertTrue(escrow.hasApproved(address(handler)));
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionExecuted(
            address(escrow), sourceKey, 2, EscrowInstruction.Kind.RevokeApproval
        );
        vm.prank(stranger);
        handler.retry(sourceKey, 2);
        assertFalse(escrow.hasApproved(address(handler)), "revoke ran after approve");
        _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Executed);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Executed);
        _assertStatus(3, IEscrowInstructionHandler.MessageStatus.Unknown);
        (storedEscrow,) = handler.storedMessage(sourceKey, 2);
        assertEq(storedEscrow, address(0), "executed messages are not kept");
    }

    function test_deferred_failingInTurn_isRecordedNotReverted() public {
        _deliver(_senderString(), _payload(2, EscrowInstruction.Kind.Release, address(escrow)));
        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.Approve, address(escrow)));
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionFailed(
            address(escrow),
            sourceKey,
            2,
            EscrowInstruction.Kind.Release,
            abi.encodeWithSelector(IEscrow.ReleaseTimelockActive.selector, escrow.releaseTime())
        );
        handler.retry(sourceKey, 2);
        assertEq(handler.lastNonce(sourceKey), 2);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Failed);
    }

    /// @dev Six instructions on two escrows delivered in a random order (with a keeper retrying whatever
    ///      deferred message is next after every delivery) end exactly as if delivered in order.
    function testFuzz_deliveryOrder_sameOutcomeAsInOrder(uint256 seed) public {
        Escrow other = _crossChainEscrow(keccak256("other"));
        address[6] memory targets = [
            address(escrow), address(other), address(escrow), address(escrow), address(other), address(escrow)
        ];
        EscrowInstruction.Kind[6] memory kinds = [
            EscrowInstruction.Kind.Approve,
            EscrowInstruction.Kind.ApproveEmergencyRefund,
            EscrowInstruction.Kind.RevokeApproval,
            EscrowInstruction.Kind.ApproveEmergencyRefund,
            EscrowInstruction.Kind.Approve,
            EscrowInstruction.Kind.Approve
        ];
        for (uint256 i; i < 6; ++i) {
            _send(targets[i], kinds[i]);
        }
        uint256[6] memory order = [uint256(0), 1, 2, 3, 4, 5];
        for (uint256 i = 5; i > 0; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % (i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        for (uint256 i; i < 6; ++i) {
            _relay(order[i]);
            for (uint256 guard; guard < 6; ++guard) {
                uint64 next = handler.lastNonce(sourceKey) + 1;
                if (
                    handler.messageStatus(sourceKey, next) != IEscrowInstructionHandler.MessageStatus.Deferred
                ) break;
                handler.retry(sourceKey, next);
            }
        }
        assertEq(handler.lastNonce(sourceKey), 6);
        for (uint64 n = 1; n <= 6; ++n) {
            _assertStatus(n, IEscrowInstructionHandler.MessageStatus.Executed);
        }
        assertTrue(escrow.hasApproved(address(handler)), "approve, revoke, approve");
        assertTrue(escrow.hasApprovedEmergencyRefund(address(handler)));
        assertTrue(other.hasApproved(address(handler)));
        assertTrue(other.hasApprovedEmergencyRefund(address(handler)));
        assertEq(escrow.eventCount(), 5, "deposit + 4 instructions, none twice");
        assertEq(other.eventCount(), 3);
    }

    // ------------------------------------------------------------------ failure and retry

    function test_failed_recordedThenRetriedByAnyoneAfterTimelock() public {
        _approve(escrow, a2);
        _send(address(escrow), EscrowInstruction.Kind.Approve); // 1
        _send(address(escrow), EscrowInstruction.Kind.Release); // 2
        _relay(0);

        bytes memory reason =
            abi.encodeWithSelector(IEscrow.ReleaseTimelockActive.selector, escrow.releaseTime());
        (bytes32 commandId, string memory from, bytes memory payload) = _approveRelay(1);
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionFailed(
            address(escrow), sourceKey, 2, EscrowInstruction.Kind.Release, reason
        );
        handler.execute(commandId, SOURCE_CHAIN, from, payload); // does not revert: the message is kept
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Failed);
        assertEq(handler.lastNonce(sourceKey), 2, "a failed message uses its nonce");
        _assertFunded(escrow, AMOUNT);

        vm.expectRevert(abi.encodeWithSelector(IEscrowInstructionHandler.RetryFailed.selector, reason));
        handler.retry(sourceKey, 2);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Failed);

        vm.warp(escrow.releaseTime());
        uint256 before = payee.balance;
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionExecuted(
            address(escrow), sourceKey, 2, EscrowInstruction.Kind.Release
        );
        vm.prank(stranger);
        handler.retry(sourceKey, 2);
        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Released));
        assertEq(payee.balance, before + AMOUNT);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Executed);

        vm.expectRevert(
            abi.encodeWithSelector(IEscrowInstructionHandler.NothingToRetry.selector, sourceKey, 2)
        );
        handler.retry(sourceKey, 2);
    }

    function test_failed_doesNotBlockLater() public {
        Escrow other = _crossChainEscrow(keccak256("other"));
        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.Release, address(escrow)));
        _deliver(_senderString(), _payload(2, EscrowInstruction.Kind.Approve, address(other)));
        _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Failed);
        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Executed);
        assertTrue(other.hasApproved(address(handler)));

        // another escrow's instruction does not supersede it
        _approve(escrow, a2);
        _approve(escrow, a3);
        vm.warp(escrow.releaseTime());
        handler.retry(sourceKey, 1);
        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Released));
    }

    function test_failed_supersededByLaterInstructionForSameEscrow() public {
        _approve(escrow, a2);
        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.Approve, address(escrow)));
        _deliver(_senderString(), _payload(2, EscrowInstruction.Kind.Release, address(escrow))); // fails
        _deliver(_senderString(), _payload(3, EscrowInstruction.Kind.RevokeApproval, address(escrow)));
        _approve(escrow, a3); // still 2 approvals: the old release would now succeed if it ran
        vm.warp(escrow.releaseTime());

        _assertStatus(2, IEscrowInstructionHandler.MessageStatus.Superseded);
        assertEq(handler.latestNonceForEscrow(sourceKey, address(escrow)), 3);
        vm.expectRevert(
            abi.encodeWithSelector(IEscrowInstructionHandler.SupersededMessage.selector, sourceKey, 2, 3)
        );
        handler.retry(sourceKey, 2);
        _assertFunded(escrow, AMOUNT);
    }

    function test_failed_escrowWithoutCode_retriedOnceCreated() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers[0] = address(handler);
        p.settlementRef = keccak256("not yet created");
        address predicted = factory.predictAddress(payer, p);

        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.Approve, predicted));
        _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Failed);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEscrowInstructionHandler.RetryFailed.selector,
                abi.encodeWithSelector(IEscrowInstructionHandler.EscrowHasNoCode.selector, predicted)
            )
        );
        handler.retry(sourceKey, 1);

        Escrow created = _create(p, AMOUNT);
        assertEq(address(created), predicted);
        handler.retry(sourceKey, 1);
        assertTrue(created.hasApproved(address(handler)));
    }

    function test_failed_handlerHasNoRole_reasonFromEscrow() public {
        Escrow plain = _createEth(); // handler is neither approver nor arbiter
        bytes memory approvePayload = _payload(1, EscrowInstruction.Kind.Approve, address(plain));
        bytes32 first = _approveAtGateway(SOURCE_CHAIN, _senderString(), approvePayload);
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionFailed(
            address(plain),
            sourceKey,
            1,
            EscrowInstruction.Kind.Approve,
            abi.encodeWithSelector(IEscrow.NotApprover.selector, address(handler))
        );
        handler.execute(first, SOURCE_CHAIN, _senderString(), approvePayload);
        bytes memory refundPayload = _payload(2, EscrowInstruction.Kind.ArbiterRefund, address(plain));
        bytes32 second = _approveAtGateway(SOURCE_CHAIN, _senderString(), refundPayload);
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionFailed(
            address(plain),
            sourceKey,
            2,
            EscrowInstruction.Kind.ArbiterRefund,
            abi.encodeWithSelector(IEscrow.NotArbiter.selector, address(handler))
        );
        handler.execute(second, SOURCE_CHAIN, _senderString(), refundPayload);
        _assertFunded(plain, AMOUNT);
    }

    function test_failureReason_isCapped() public {
        LoudReverter loud = new LoudReverter();
        vm.recordLogs();
        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.Approve, address(loud)));
        _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Failed);
        bytes memory reason = _failureReason();
        assertEq(reason.length, 256);
    }

    function test_retry_requiresAllowedSource_andStoredMessage() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEscrowInstructionHandler.NothingToRetry.selector, sourceKey, 1)
        );
        handler.retry(sourceKey, 1);

        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.Release, address(escrow)));
        vm.prank(admin);
        handler.setSource(SOURCE_CHAIN, address(sender), false);
        vm.expectRevert(
            abi.encodeWithSelector(IEscrowInstructionHandler.SourceNotAllowed.selector, sourceKey)
        );
        handler.retry(sourceKey, 1);
    }

    function test_reentrancy_payeeCannotReenterDuringPayout() public {
        ReenteringPayee evil = new ReenteringPayee(handler);
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.payee = address(evil);
        p.arbiter = address(handler);
        Escrow e = _create(p, AMOUNT);
        evil.arm(sourceKey);
        _deliver(_senderString(), _payload(1, EscrowInstruction.Kind.ArbiterRelease, address(e)));
        assertTrue(evil.reentryBlocked());
        assertEq(address(evil).balance, AMOUNT);
        _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Executed);
    }

    // ------------------------------------------------------------------ gas

    function test_execute_tooLittleGas_revertsAndKeepsTheCommand() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.ArbiterRelease, address(escrow));
        bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, _senderString(), payload);
        (bool ok, bytes memory ret) = address(handler).call{gas: 200_000}(
            abi.encodeCall(handler.execute, (commandId, SOURCE_CHAIN, _senderString(), payload))
        );
        assertFalse(ok);
        assertEq(bytes4(ret), IEscrowInstructionHandler.InsufficientGas.selector);
        assertTrue(
            destGateway.isContractCallApproved(
                commandId, SOURCE_CHAIN, _senderString(), address(handler), keccak256(payload)
            ),
            "still approved at the gateway"
        );
        assertEq(handler.lastNonce(sourceKey), 0);

        handler.execute(commandId, SOURCE_CHAIN, _senderString(), payload);
        assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Released));
    }

    /// @dev With the documented floor the handler never records a failure caused by the caller's gas.
    function testFuzz_execute_gasLimit_neverFailsForLackOfGas(uint256 gasLimit) public {
        gasLimit = bound(gasLimit, 100_000, 600_000);
        bytes memory payload = _payload(1, EscrowInstruction.Kind.ArbiterRelease, address(escrow));
        bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, _senderString(), payload);
        (bool ok,) = address(handler).call{gas: gasLimit}(
            abi.encodeCall(handler.execute, (commandId, SOURCE_CHAIN, _senderString(), payload))
        );
        if (ok) {
            _assertStatus(1, IEscrowInstructionHandler.MessageStatus.Executed);
            assertEq(uint8(escrow.status()), uint8(IEscrow.Status.Released));
        } else {
            assertEq(handler.lastNonce(sourceKey), 0);
            assertFalse(destGateway.isCommandExecuted(commandId));
        }
    }

    // ------------------------------------------------------------------ events

    /// @dev The relayer decodes these by topic 0 (escrow/abi/EscrowInstructionHandler.json).
    function test_eventSignatures() public pure {
        assertEq(
            IEscrowInstructionHandler.MessageReceived.selector,
            keccak256("MessageReceived(address,bytes32,uint64,bytes32,string,string,uint8)")
        );
        assertEq(
            IEscrowInstructionHandler.MessageRejected.selector,
            keccak256("MessageRejected(address,bytes32,uint64,bytes32,string,string,uint8,uint8)")
        );
        assertEq(
            IEscrowInstructionHandler.MessageDeferred.selector,
            keccak256("MessageDeferred(address,bytes32,uint64,uint8,uint64)")
        );
        assertEq(
            IEscrowInstructionHandler.InstructionExecuted.selector,
            keccak256("InstructionExecuted(address,bytes32,uint64,uint8)")
        );
        assertEq(
            IEscrowInstructionHandler.InstructionFailed.selector,
            keccak256("InstructionFailed(address,bytes32,uint64,uint8,bytes)")
        );
        assertEq(
            IEscrowInstructionHandler.SourceSet.selector, keccak256("SourceSet(bytes32,string,address,bool)")
        );
    }

    function test_received_thenExecuted_events() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.ApproveEmergencyRefund, address(escrow));
        bytes32 commandId = _approveAtGateway(SOURCE_CHAIN, _senderString(), payload);
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.MessageReceived(
            address(escrow),
            sourceKey,
            1,
            commandId,
            SOURCE_CHAIN,
            _senderString(),
            EscrowInstruction.Kind.ApproveEmergencyRefund
        );
        vm.expectEmit(address(escrow));
        emit IEscrow.EmergencyRefundApproved(2, address(handler), 1);
        vm.expectEmit(address(handler));
        emit IEscrowInstructionHandler.InstructionExecuted(
            address(escrow), sourceKey, 1, EscrowInstruction.Kind.ApproveEmergencyRefund
        );
        handler.execute(commandId, SOURCE_CHAIN, _senderString(), payload);

        _deliver(
            _senderString(),
            _payload(2, EscrowInstruction.Kind.RevokeEmergencyRefundApproval, address(escrow))
        );
        assertFalse(escrow.hasApprovedEmergencyRefund(address(handler)));
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Asserts the recorded logs hold exactly one handler event, a rejection for `reason`.
    function _assertOnlyRejection(EscrowInstruction.RejectReason reason) internal {
        uint256 found;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(handler)) continue;
            ++found;
            assertEq(
                logs[i].topics[0], IEscrowInstructionHandler.MessageRejected.selector, "only a rejection"
            );
            (,,,, EscrowInstruction.RejectReason got) = abi.decode(
                logs[i].data,
                (bytes32, string, string, EscrowInstruction.Kind, EscrowInstruction.RejectReason)
            );
            assertEq(uint8(got), uint8(reason), "reject reason");
        }
        assertEq(found, 1, "handler events");
    }

    function _failureReason() internal returns (bytes memory reason) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(handler)
                    && logs[i].topics[0] == IEscrowInstructionHandler.InstructionFailed.selector
            ) {
                (, reason) = abi.decode(logs[i].data, (EscrowInstruction.Kind, bytes));
                return reason;
            }
        }
        revert("no InstructionFailed");
    }

    function _slice(bytes memory b, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i; i < n; ++i) {
            out[i] = b[i];
        }
    }
}
