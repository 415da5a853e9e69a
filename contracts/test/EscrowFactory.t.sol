// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {Escrow} from "../src/Escrow.sol";
import {IEscrow} from "../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../src/interfaces/IEscrowFactory.sol";
import {EscrowArgs} from "../src/libraries/EscrowArgs.sol";
import {EscrowTestBase} from "./utils/EscrowTestBase.sol";
import {ContractParty, FeeOnTransferToken} from "./utils/Mocks.sol";

/// @dev Exposes EscrowArgs.encode (calldata-only) to tests.
contract ArgsEncoder {
    function encode(address payer, IEscrowFactory.EscrowParams calldata p)
        external
        pure
        returns (bytes memory)
    {
        return EscrowArgs.encode(payer, p);
    }
}

contract EscrowFactoryTest is EscrowTestBase {
    // ------------------------------------------------------------ creation

    function test_createEscrow_eth_fundsEscrowAndEmitsEvents() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        address predicted = factory.predictAddress(payer, p);

        vm.expectEmit(address(factory));
        emit IEscrowFactory.EscrowCreated(
            predicted,
            REF,
            payer,
            payee,
            address(0),
            AMOUNT,
            arbiter,
            2,
            p.releaseTime,
            p.deadline,
            p.approvers
        );
        vm.expectEmit(predicted);
        emit IEscrow.Deposited(1, payer, address(0), AMOUNT);
        vm.prank(payer);
        address escrow = factory.createEscrow{value: AMOUNT}(p, AMOUNT);

        assertEq(escrow, predicted, "deployed at the predicted address");
        Escrow e = Escrow(escrow);
        _assertFunded(e, AMOUNT);
        assertEq(payer.balance, 1_000 ether - AMOUNT);
        assertEq(address(factory).balance, 0, "factory keeps nothing");
        assertEq(e.eventCount(), 1, "the deposit is event 1");
        assertEq(e.factory(), address(factory));
        assertEq(e.payer(), payer);
        assertEq(e.payee(), payee);
        assertEq(e.token(), address(0));
        assertEq(e.arbiter(), arbiter);
        assertEq(e.settlementRef(), REF);
        assertEq(e.releaseTime(), p.releaseTime);
        assertEq(e.deadline(), p.deadline);
        assertEq(e.threshold(), 2);
        assertEq(e.approvers(), p.approvers);
        assertTrue(e.isApprover(a1) && e.isApprover(a2) && e.isApprover(a3));
        assertFalse(e.isApprover(stranger));
        assertEq(e.approvalCount(), 0);
        assertEq(e.emergencyApprovalCount(), 0);
        (address recipient, uint256 pending) = e.pendingWithdrawal();
        assertEq(recipient, address(0));
        assertEq(pending, 0);
    }

    function test_createEscrow_erc20_pullsFromPayer() public {
        IEscrowFactory.EscrowParams memory p = _params(address(usd));
        address predicted = factory.predictAddress(payer, p);
        vm.expectEmit(address(factory));
        emit IEscrowFactory.EscrowCreated(
            predicted,
            REF,
            payer,
            payee,
            address(usd),
            1_000e6,
            arbiter,
            2,
            p.releaseTime,
            p.deadline,
            p.approvers
        );
        vm.expectEmit(predicted);
        emit IEscrow.Deposited(1, payer, address(usd), 1_000e6);
        Escrow e = _create(p, 1_000e6);
        assertEq(address(e), predicted);
        _assertFunded(e, 1_000e6);
        assertEq(usd.balanceOf(payer), 1_000_000e6 - 1_000e6);
        assertEq(usd.balanceOf(address(factory)), 0);
    }

    function test_createEscrow_feeOnTransfer_creditsBalanceIncrease() public {
        FeeOnTransferToken fee = new FeeOnTransferToken(100); // 1 %
        fee.mint(payer, 1_000 ether);
        vm.prank(payer);
        fee.approve(address(factory), type(uint256).max);
        IEscrowFactory.EscrowParams memory p = _params(address(fee));
        address predicted = factory.predictAddress(payer, p);
        vm.expectEmit(address(factory));
        emit IEscrowFactory.EscrowCreated(
            predicted,
            REF,
            payer,
            payee,
            address(fee),
            99 ether,
            arbiter,
            2,
            p.releaseTime,
            p.deadline,
            p.approvers
        );
        Escrow e = _create(p, 100 ether);
        assertEq(e.amount(), 99 ether, "credited = what arrived");
        assertEq(fee.balanceOf(address(e)), 99 ether);
    }

    function test_createEscrow_contractApproversAndArbiter() public {
        ContractParty gmp = new ContractParty();
        ContractParty arb = new ContractParty();
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers[0] = address(gmp);
        p.arbiter = address(arb);
        p.threshold = 1;
        Escrow e = _create(p, AMOUNT);
        gmp.approve(e);
        assertTrue(e.hasApproved(address(gmp)));
        gmp.revokeApproval(e);
        gmp.approveEmergencyRefund(e);
        assertEq(e.emergencyApprovalCount(), 1);
        arb.arbiterDecide(e, true);
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Released));
        assertEq(payee.balance, AMOUNT);
    }

    function test_createEscrow_releaseTimeInThePast_allowed() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.releaseTime = 0;
        Escrow e = _create(p, AMOUNT);
        _approveN(e, 2);
        e.release();
        assertEq(payee.balance, AMOUNT);
    }

    function test_createEscrow_withoutArbiter() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.arbiter = address(0);
        Escrow e = _create(p, AMOUNT);
        assertEq(e.arbiter(), address(0));
    }

    // ------------------------------------------------------------ addresses

    function test_predictAddress_matchesEncodedArgsAndSalt() public {
        ArgsEncoder enc = new ArgsEncoder();
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        bytes memory args = enc.encode(payer, p);
        assertEq(args.length, EscrowArgs.APPROVERS + 20 * 3);
        address expected = Clones.predictDeterministicAddressWithImmutableArgs(
            factory.implementation(), args, keccak256(args), address(factory)
        );
        assertEq(factory.predictAddress(payer, p), expected);
        Escrow e = _create(p, AMOUNT);
        assertEq(Clones.fetchCloneArgs(address(e)), args, "clone carries the parameters");
    }

    function test_predictAddress_bindsCaller() public view {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        assertTrue(factory.predictAddress(payer, p) != factory.predictAddress(stranger, p));
    }

    function test_predictAddress_bindsEveryParameter() public view {
        IEscrowFactory.EscrowParams memory p = _params(address(usd));
        address base = factory.predictAddress(payer, p);
        IEscrowFactory.EscrowParams memory q;

        q = _params(address(usd));
        q.payee = stranger;
        assertTrue(factory.predictAddress(payer, q) != base, "payee");
        q = _params(address(usd));
        q.token = address(0);
        assertTrue(factory.predictAddress(payer, q) != base, "token");
        q = _params(address(usd));
        q.arbiter = address(0);
        assertTrue(factory.predictAddress(payer, q) != base, "arbiter");
        q = _params(address(usd));
        q.settlementRef = bytes32(uint256(1));
        assertTrue(factory.predictAddress(payer, q) != base, "settlementRef");
        q = _params(address(usd));
        q.releaseTime += 1;
        assertTrue(factory.predictAddress(payer, q) != base, "releaseTime");
        q = _params(address(usd));
        q.deadline += 1;
        assertTrue(factory.predictAddress(payer, q) != base, "deadline");
        q = _params(address(usd));
        q.threshold = 3;
        assertTrue(factory.predictAddress(payer, q) != base, "threshold");
        q = _params(address(usd));
        (q.approvers[0], q.approvers[1]) = (q.approvers[1], q.approvers[0]);
        assertTrue(factory.predictAddress(payer, q) != base, "approvers");
    }

    /// @notice Rule: nobody can front-run or squat a payer's escrow address.
    function test_frontRunning_cannotTakeThePredictedAddress() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        address predicted = factory.predictAddress(payer, p);
        // The attacker submits the very same parameters first.
        vm.deal(stranger, AMOUNT);
        vm.prank(stranger);
        address squatted = factory.createEscrow{value: AMOUNT}(p, AMOUNT);
        assertTrue(squatted != predicted, "the attacker gets its own address");
        assertEq(Escrow(squatted).payer(), stranger);
        // The payer still gets its escrow where predicted.
        Escrow e = _create(p, AMOUNT);
        assertEq(address(e), predicted);
        assertEq(e.payer(), payer);
    }

    function test_createEscrow_sameEscrowTwice_reverts() public {
        _createEth();
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        vm.prank(payer);
        vm.expectRevert(Errors.FailedDeployment.selector);
        factory.createEscrow{value: AMOUNT}(p, AMOUNT);
    }

    // ------------------------------------------------------------ parameter validation

    function _expectCreateRevert(
        IEscrowFactory.EscrowParams memory p,
        uint256 value,
        uint256 amount,
        bytes memory err
    ) internal {
        vm.prank(payer);
        vm.expectRevert(err);
        factory.createEscrow{value: value}(p, amount);
    }

    function test_revert_zeroPayee() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.payee = address(0);
        _expectCreateRevert(p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.InvalidPayee.selector));
    }

    function test_revert_noApprovers() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = new address[](0);
        _expectCreateRevert(
            p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.InvalidApproverCount.selector, 0)
        );
    }

    function test_revert_tooManyApprovers() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = new address[](17);
        for (uint256 i; i < 17; ++i) {
            p.approvers[i] = address(uint160(100 + i));
        }
        _expectCreateRevert(
            p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.InvalidApproverCount.selector, 17)
        );
    }

    function test_sixteenApprovers_allowed() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers = new address[](16);
        for (uint256 i; i < 16; ++i) {
            p.approvers[i] = address(uint160(100 + i));
        }
        p.threshold = 16;
        Escrow e = _create(p, AMOUNT);
        assertEq(e.approvers().length, 16);
        assertEq(e.threshold(), 16);
        _approveN(e, 16);
        assertEq(e.approvalCount(), 16);
        assertTrue(e.hasApproved(address(uint160(115))));
    }

    function test_revert_zeroThreshold() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.threshold = 0;
        _expectCreateRevert(
            p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.InvalidThreshold.selector, 0, 3)
        );
    }

    function test_revert_thresholdAboveApproverCount() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.threshold = 4;
        _expectCreateRevert(
            p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.InvalidThreshold.selector, 4, 3)
        );
    }

    function test_revert_zeroApprover() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers[1] = address(0);
        _expectCreateRevert(
            p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.InvalidApprover.selector, address(0))
        );
    }

    function test_revert_duplicateApprover() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.approvers[2] = a1;
        _expectCreateRevert(
            p, AMOUNT, AMOUNT, abi.encodeWithSelector(IEscrowFactory.DuplicateApprover.selector, a1)
        );
    }

    function test_revert_deadlineNotInTheFuture() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.releaseTime = 0;
        p.deadline = uint40(block.timestamp);
        _expectCreateRevert(
            p,
            AMOUNT,
            AMOUNT,
            abi.encodeWithSelector(IEscrowFactory.InvalidDeadline.selector, block.timestamp)
        );
    }

    function test_revert_releaseTimeNotBeforeDeadline() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        p.releaseTime = p.deadline;
        _expectCreateRevert(
            p,
            AMOUNT,
            AMOUNT,
            abi.encodeWithSelector(IEscrowFactory.InvalidReleaseTime.selector, p.deadline, p.deadline)
        );
    }

    function test_revert_ethValueMismatch() public {
        IEscrowFactory.EscrowParams memory p = _params(address(0));
        _expectCreateRevert(
            p,
            AMOUNT - 1,
            AMOUNT,
            abi.encodeWithSelector(IEscrowFactory.ValueMismatch.selector, AMOUNT - 1, AMOUNT)
        );
    }

    function test_revert_erc20WithEth() public {
        IEscrowFactory.EscrowParams memory p = _params(address(usd));
        _expectCreateRevert(
            p, 1, 1_000e6, abi.encodeWithSelector(IEscrowFactory.ValueMismatch.selector, 1, 0)
        );
    }

    function test_revert_zeroAmount() public {
        _expectCreateRevert(
            _params(address(0)), 0, 0, abi.encodeWithSelector(IEscrowFactory.ZeroAmount.selector)
        );
        _expectCreateRevert(
            _params(address(usd)), 0, 0, abi.encodeWithSelector(IEscrowFactory.ZeroAmount.selector)
        );
    }

    function test_revert_erc20NothingArrives() public {
        FeeOnTransferToken fee = new FeeOnTransferToken(10_000); // 100 % fee
        fee.mint(payer, 1 ether);
        vm.prank(payer);
        fee.approve(address(factory), type(uint256).max);
        _expectCreateRevert(
            _params(address(fee)), 0, 1 ether, abi.encodeWithSelector(IEscrowFactory.ZeroAmount.selector)
        );
    }

    function test_revert_erc20WithoutAllowance() public {
        vm.prank(payer);
        usd.approve(address(factory), 0);
        _expectCreateRevert(
            _params(address(usd)),
            0,
            1_000e6,
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(factory), 0, 1_000e6
            )
        );
    }

    function test_revert_erc20TokenWithoutCode() public {
        IEscrowFactory.EscrowParams memory p = _params(makeAddr("not-a-token"));
        vm.prank(payer);
        vm.expectRevert();
        factory.createEscrow(p, 1);
    }

    function test_revert_amountAbove128Bits() public {
        uint256 huge = uint256(type(uint128).max) + 1;
        vm.deal(payer, huge);
        _expectCreateRevert(
            _params(address(0)), huge, huge, abi.encodeWithSelector(IEscrow.AmountTooLarge.selector, huge)
        );
    }

    // ------------------------------------------------------------ initialisation

    /// @notice Rule: the implementation contract cannot be initialised by anyone.
    function test_implementation_cannotBeInitialised() public {
        Escrow impl = Escrow(factory.implementation());
        vm.expectRevert(IEscrow.NotAClone.selector);
        impl.initialize(1);
        vm.prank(address(factory));
        vm.expectRevert(IEscrow.NotAClone.selector);
        impl.initialize(1);
        assertEq(uint8(impl.status()), uint8(IEscrow.Status.None));
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotFunded.selector, IEscrow.Status.None));
        impl.approve();
        vm.expectRevert(abi.encodeWithSelector(IEscrow.NotFunded.selector, IEscrow.Status.None));
        impl.refund();
        vm.expectRevert(IEscrow.NothingToWithdraw.selector);
        impl.withdraw();
    }

    function test_initialize_onlyFactory_once() public {
        Escrow e = _createEth();
        vm.prank(stranger);
        vm.expectRevert(IEscrow.NotFactory.selector);
        e.initialize(1);
        vm.prank(payer);
        vm.expectRevert(IEscrow.NotFactory.selector);
        e.initialize(1);
        vm.prank(address(factory));
        vm.expectRevert(IEscrow.AlreadyInitialized.selector);
        e.initialize(1);
    }

    /// @dev A clone deployed outside the factory can still only be initialised by the factory, and
    ///      the escrow itself refuses an ETH deposit it does not hold or a zero amount.
    function test_initialize_checksDeposit() public {
        ArgsEncoder enc = new ArgsEncoder();
        bytes memory args = enc.encode(payer, _params(address(0)));
        Escrow e = Escrow(Clones.cloneWithImmutableArgs(factory.implementation(), args));
        vm.expectRevert(IEscrow.NotFactory.selector);
        e.initialize(1);
        vm.startPrank(address(factory));
        vm.expectRevert(abi.encodeWithSelector(IEscrow.DepositMissing.selector, 0, 1 ether));
        e.initialize(1 ether);
        vm.expectRevert(IEscrow.ZeroAmount.selector);
        e.initialize(0);
        vm.stopPrank();
    }

    function test_escrow_rejectsPlainEthTransfers() public {
        Escrow e = _createEth();
        vm.prank(stranger);
        vm.deal(stranger, 1 ether);
        (bool ok,) = address(e).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(address(e).balance, AMOUNT);
    }

    function test_maxApprovers_constant() public view {
        assertEq(factory.MAX_APPROVERS(), 16);
    }
}
