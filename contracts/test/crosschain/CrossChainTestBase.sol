// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Escrow} from "../../src/Escrow.sol";
import {EscrowInstructionHandler} from "../../src/EscrowInstructionHandler.sol";
import {EscrowInstructionSender} from "../../src/EscrowInstructionSender.sol";
import {IEscrowFactory} from "../../src/interfaces/IEscrowFactory.sol";
import {EscrowInstruction} from "../../src/libraries/EscrowInstruction.sol";
import {AxelarGasServiceDouble, AxelarGatewayDouble} from "../doubles/AxelarDoubles.sol";
import {EscrowTestBase} from "../utils/EscrowTestBase.sol";

/// @dev Two "chains" in one EVM: a source side (treasury, sender, source gateway, gas service) and an
///      escrow side (destination gateway, handler, escrows). `_relay` plays Axelar: it takes a call the
///      sender left at the source gateway, has the destination gateway approve it under a fresh
///      command id and executes it on the handler, as Axelar's relayer would.
abstract contract CrossChainTestBase is EscrowTestBase {
    string internal constant SOURCE_CHAIN = "polygon-sepolia";
    string internal constant DEST_CHAIN = "ethereum-sepolia";
    uint256 internal constant GAS_FEE = 0.01 ether;

    address internal treasury = makeAddr("treasury");
    address internal admin = makeAddr("handlerAdmin");

    AxelarGatewayDouble internal sourceGateway;
    AxelarGatewayDouble internal destGateway;
    AxelarGasServiceDouble internal gasService;
    EscrowInstructionSender internal sender;
    EscrowInstructionHandler internal handler;
    bytes32 internal sourceKey;
    uint256 internal commandCounter;

    function setUp() public virtual override {
        super.setUp();
        sourceGateway = new AxelarGatewayDouble();
        destGateway = new AxelarGatewayDouble();
        gasService = new AxelarGasServiceDouble();
        sender = new EscrowInstructionSender(address(sourceGateway), address(gasService), treasury);
        handler = new EscrowInstructionHandler(address(destGateway), admin);
        vm.prank(admin);
        handler.setSource(SOURCE_CHAIN, address(sender), true);
        sourceKey = handler.sourceKeyOf(SOURCE_CHAIN, address(sender));
        vm.deal(treasury, 100 ether);
    }

    /// @dev 2-of-3 with the handler as approver 0 and as arbiter; release after 1 day, deadline 7 days.
    function _crossChainEscrow() internal returns (Escrow) {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers[0] = address(handler);
        p.arbiter = address(handler);
        return _create(p, AMOUNT);
    }

    /// @dev Like `_crossChainEscrow` but with a distinct settlement reference (distinct address).
    function _crossChainEscrow(bytes32 ref) internal returns (Escrow) {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers[0] = address(handler);
        p.arbiter = address(handler);
        p.settlementRef = ref;
        return _create(p, AMOUNT);
    }

    function _send(address escrow, EscrowInstruction.Kind kind) internal returns (uint64 nonce) {
        vm.prank(treasury);
        nonce = sender.send{value: GAS_FEE}(DEST_CHAIN, address(handler), escrow, kind);
    }

    /// @dev Relays the sender's call number `index` (0-based) at the source gateway to the handler.
    function _relay(uint256 index) internal returns (bytes32 commandId) {
        string memory from;
        bytes memory payload;
        (commandId, from, payload) = _approveRelay(index);
        handler.execute(commandId, SOURCE_CHAIN, from, payload);
    }

    /// @dev The validators' half of a relay: approve the sender's call `index` at the destination gateway.
    ///      Returns what `execute` needs (so a test can set expectations right before it).
    function _approveRelay(uint256 index)
        internal
        returns (bytes32 commandId, string memory from, bytes memory payload)
    {
        AxelarGatewayDouble.OutgoingCall memory c = sourceGateway.outgoingCall(index);
        assertEq(c.sender, address(sender), "call not from the sender");
        assertEq(c.destinationChain, DEST_CHAIN, "wrong destination chain");
        assertEq(vm.parseAddress(c.destinationContractAddress), address(handler), "wrong destination");
        // Axelar hands the source address over as a checksummed string; the handler must not care.
        from = vm.toString(c.sender);
        payload = c.payload;
        commandId = _approveAtGateway(SOURCE_CHAIN, from, payload);
    }

    function _relayLast() internal returns (bytes32) {
        return _relay(sourceGateway.callCount() - 1);
    }

    /// @dev Approves `payload` from (SOURCE_CHAIN, sourceAddress) at the destination gateway and executes it.
    function _deliver(string memory sourceAddress, bytes memory payload)
        internal
        returns (bytes32 commandId)
    {
        return _deliverFrom(SOURCE_CHAIN, sourceAddress, payload);
    }

    function _deliverFrom(string memory chain, string memory sourceAddress, bytes memory payload)
        internal
        returns (bytes32 commandId)
    {
        commandId = _approveAtGateway(chain, sourceAddress, payload);
        handler.execute(commandId, chain, sourceAddress, payload);
    }

    function _approveAtGateway(string memory chain, string memory sourceAddress, bytes memory payload)
        internal
        returns (bytes32 commandId)
    {
        commandId = keccak256(abi.encode("command", ++commandCounter));
        destGateway.approveContractCall(commandId, chain, sourceAddress, address(handler), keccak256(payload));
    }

    function _payload(uint64 nonce, EscrowInstruction.Kind kind, address escrow)
        internal
        pure
        returns (bytes memory)
    {
        return EscrowInstruction.encode(nonce, kind, escrow);
    }

    function _senderString() internal view returns (string memory) {
        return vm.toString(address(sender));
    }
}
