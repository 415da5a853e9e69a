// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {
    IAxelarGateway
} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/interfaces/IAxelarGateway.sol";

import {Escrow} from "../../src/Escrow.sol";
import {EscrowInstructionSender} from "../../src/EscrowInstructionSender.sol";
import {IEscrowInstructionSender} from "../../src/interfaces/IEscrowInstructionSender.sol";
import {EscrowInstruction} from "../../src/libraries/EscrowInstruction.sol";
import {AxelarGasServiceDouble, AxelarGatewayDouble} from "../doubles/AxelarDoubles.sol";
import {CrossChainTestBase} from "./CrossChainTestBase.sol";

contract EscrowInstructionSenderTest is CrossChainTestBase {
    address internal constant ESCROW = address(0xE5C0);

    function test_send_onlyOwner() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        sender.send{value: GAS_FEE}(DEST_CHAIN, address(handler), ESCROW, EscrowInstruction.Kind.Approve);
        assertEq(sourceGateway.callCount(), 0);
    }

    function test_send_callsGatewayAndPaysGas() public {
        bytes memory payload = _payload(1, EscrowInstruction.Kind.ArbiterRelease, ESCROW);
        string memory handlerString = vm.toLowercase(vm.toString(address(handler)));
        bytes32 lane = sender.laneOf(DEST_CHAIN, address(handler));

        vm.expectEmit(address(gasService));
        emit AxelarGasServiceDouble.NativeGasPaidForContractCall(
            address(sender), DEST_CHAIN, handlerString, keccak256(payload), GAS_FEE, treasury
        );
        vm.expectEmit(address(sourceGateway));
        emit IAxelarGateway.ContractCall(
            address(sender), DEST_CHAIN, handlerString, keccak256(payload), payload
        );
        vm.expectEmit(address(sender));
        emit IEscrowInstructionSender.InstructionSent(
            ESCROW,
            lane,
            1,
            DEST_CHAIN,
            address(handler),
            EscrowInstruction.Kind.ArbiterRelease,
            keccak256(payload),
            GAS_FEE,
            false
        );
        uint64 nonce = _send(ESCROW, EscrowInstruction.Kind.ArbiterRelease);

        assertEq(nonce, 1);
        AxelarGatewayDouble.OutgoingCall memory c = sourceGateway.lastCall();
        assertEq(c.sender, address(sender));
        assertEq(c.destinationChain, DEST_CHAIN);
        assertEq(c.destinationContractAddress, handlerString);
        assertEq(c.payload, payload);
        assertEq(c.payload.length, 128);

        assertEq(gasService.paymentCount(), 1);
        AxelarGasServiceDouble.Payment memory p = gasService.payment(0);
        assertEq(p.sender, address(sender));
        assertEq(p.destinationChain, DEST_CHAIN);
        assertEq(p.destinationAddress, handlerString);
        assertEq(p.payloadHash, keccak256(payload));
        assertEq(p.amount, GAS_FEE);
        assertEq(p.refundAddress, treasury, "refunds go to the owner");
        assertEq(address(gasService).balance, GAS_FEE);
        assertEq(address(sender).balance, 0, "the sender keeps nothing");
    }

    function test_send_noncePerDestination() public {
        assertEq(_send(ESCROW, EscrowInstruction.Kind.Approve), 1);
        assertEq(_send(ESCROW, EscrowInstruction.Kind.RevokeApproval), 2);
        vm.startPrank(treasury);
        assertEq(
            sender.send{value: GAS_FEE}(
                "avalanche-fuji", address(handler), ESCROW, EscrowInstruction.Kind.Approve
            ),
            1
        );
        assertEq(sender.send{value: GAS_FEE}(DEST_CHAIN, stranger, ESCROW, EscrowInstruction.Kind.Approve), 1);
        assertEq(
            sender.send{value: GAS_FEE}(DEST_CHAIN, address(handler), ESCROW, EscrowInstruction.Kind.Release),
            3
        );
        vm.stopPrank();
        bytes32 lane = sender.laneOf(DEST_CHAIN, address(handler));
        assertEq(lane, keccak256(abi.encode(DEST_CHAIN, address(handler))));
        assertEq(sender.lastNonce(lane), 3);
        (address e, EscrowInstruction.Kind k) = sender.sentInstruction(lane, 2);
        assertEq(e, ESCROW);
        assertEq(uint8(k), uint8(EscrowInstruction.Kind.RevokeApproval));
    }

    function test_send_validatesInput() public {
        vm.startPrank(treasury);
        vm.expectRevert(IEscrowInstructionSender.GasPaymentRequired.selector);
        sender.send(DEST_CHAIN, address(handler), ESCROW, EscrowInstruction.Kind.Approve);
        vm.expectRevert(IEscrowInstructionSender.ZeroAddress.selector);
        sender.send{value: GAS_FEE}(DEST_CHAIN, address(handler), address(0), EscrowInstruction.Kind.Approve);
        vm.expectRevert(IEscrowInstructionSender.ZeroAddress.selector);
        sender.send{value: GAS_FEE}(DEST_CHAIN, address(0), ESCROW, EscrowInstruction.Kind.Approve);
        vm.expectRevert(IEscrowInstructionSender.EmptyDestinationChain.selector);
        sender.send{value: GAS_FEE}("", address(handler), ESCROW, EscrowInstruction.Kind.Approve);
        vm.expectRevert(IEscrowInstructionSender.InvalidKind.selector);
        sender.send{value: GAS_FEE}(DEST_CHAIN, address(handler), ESCROW, EscrowInstruction.Kind.None);
        // a kind outside the enum does not even decode
        (bool ok,) = address(sender).call{value: GAS_FEE}(
            abi.encodeWithSelector(sender.send.selector, DEST_CHAIN, address(handler), ESCROW, uint256(8))
        );
        assertFalse(ok);
        vm.stopPrank();
        assertEq(sourceGateway.callCount(), 0);
        assertEq(sender.lastNonce(sender.laneOf(DEST_CHAIN, address(handler))), 0);
    }

    function test_resend_sameNonceSamePayload() public {
        _send(ESCROW, EscrowInstruction.Kind.Approve);
        _send(ESCROW, EscrowInstruction.Kind.Release);
        bytes32 lane = sender.laneOf(DEST_CHAIN, address(handler));
        bytes memory payload = _payload(1, EscrowInstruction.Kind.Approve, ESCROW);

        vm.expectEmit(address(sender));
        emit IEscrowInstructionSender.InstructionSent(
            ESCROW,
            lane,
            1,
            DEST_CHAIN,
            address(handler),
            EscrowInstruction.Kind.Approve,
            keccak256(payload),
            1,
            true
        );
        vm.prank(treasury);
        sender.resend{value: 1}(DEST_CHAIN, address(handler), 1);
        assertEq(sourceGateway.lastCall().payload, payload);
        assertEq(sender.lastNonce(lane), 2, "resend assigns no nonce");

        vm.startPrank(treasury);
        vm.expectRevert(abi.encodeWithSelector(IEscrowInstructionSender.UnknownNonce.selector, lane, 3));
        sender.resend{value: 1}(DEST_CHAIN, address(handler), 3);
        vm.expectRevert(IEscrowInstructionSender.GasPaymentRequired.selector);
        sender.resend(DEST_CHAIN, address(handler), 1);
        vm.stopPrank();

        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        sender.resend{value: 1}(DEST_CHAIN, address(handler), 1);
    }

    function test_constructor_rejectsZeroAddresses() public {
        vm.expectRevert(IEscrowInstructionSender.ZeroAddress.selector);
        new EscrowInstructionSender(address(0), address(gasService), treasury);
        vm.expectRevert(IEscrowInstructionSender.ZeroAddress.selector);
        new EscrowInstructionSender(address(sourceGateway), address(0), treasury);
    }

    function test_ownership_isTwoStep() public {
        vm.prank(treasury);
        sender.transferOwnership(stranger);
        assertEq(sender.owner(), treasury);
        vm.prank(stranger);
        sender.acceptOwnership();
        assertEq(sender.owner(), stranger);
    }

    /// @dev Whatever the sender encodes, the handler decodes to the same instruction.
    function testFuzz_encodeDecode_roundTrip(uint64 nonce, uint8 rawKind, address target) public {
        vm.assume(target != address(0));
        EscrowInstruction.Kind kind = EscrowInstruction.Kind(bound(rawKind, 1, 7));
        for (uint64 i = 1; i < nonce % 4 + 1; ++i) {
            _send(target, kind);
        }
        uint64 sent = _send(target, kind);
        bytes memory payload = sourceGateway.lastCall().payload;
        (uint64 n, EscrowInstruction.Kind k, address e, EscrowInstruction.RejectReason r) =
            this.decodeExternal(payload);
        assertEq(uint8(r), 0);
        assertEq(n, sent);
        assertEq(uint8(k), uint8(kind));
        assertEq(e, target);
    }

    function decodeExternal(bytes calldata payload)
        external
        pure
        returns (uint64, EscrowInstruction.Kind, address, EscrowInstruction.RejectReason)
    {
        return EscrowInstruction.decode(payload);
    }
}
