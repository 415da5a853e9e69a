// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {IEscrow} from "../../src/interfaces/IEscrow.sol";
import {IEscrowFactory} from "../../src/interfaces/IEscrowFactory.sol";
import {MockERC20} from "./Mocks.sol";

/// @dev Shared fixture: a factory, a payer with ETH and tokens, a payee, three approvers, an arbiter.
abstract contract EscrowTestBase is Test {
    uint256 internal constant START = 1_700_000_000;
    uint40 internal constant RELEASE_DELAY = 1 days;
    uint40 internal constant DEADLINE_DELAY = 7 days;
    bytes32 internal constant REF = keccak256("settlement-0001");
    uint256 internal constant AMOUNT = 1 ether;

    EscrowFactory internal factory;
    MockERC20 internal usd;

    address internal payer = makeAddr("payer");
    address internal payee = makeAddr("payee");
    address internal arbiter = makeAddr("arbiter");
    address internal stranger = makeAddr("stranger");
    address internal a1 = makeAddr("approver1");
    address internal a2 = makeAddr("approver2");
    address internal a3 = makeAddr("approver3");

    function setUp() public virtual {
        vm.warp(START);
        factory = new EscrowFactory();
        usd = new MockERC20("Mock USD", "mUSD", 6);
        vm.deal(payer, 1_000 ether);
        usd.mint(payer, 1_000_000e6);
        vm.prank(payer);
        usd.approve(address(factory), type(uint256).max);
    }

    function _approvers() internal view returns (address[] memory list) {
        list = new address[](3);
        list[0] = a1;
        list[1] = a2;
        list[2] = a3;
    }

    /// @dev 2-of-3, arbiter set, release after 1 day, deadline after 7 days.
    function _params(address token) internal view returns (IEscrowFactory.EscrowParams memory p) {
        p = IEscrowFactory.EscrowParams({
            payee: payee,
            token: token,
            arbiter: arbiter,
            settlementRef: REF,
            releaseTime: uint40(block.timestamp) + RELEASE_DELAY,
            deadline: uint40(block.timestamp) + DEADLINE_DELAY,
            threshold: 2,
            approvers: _approvers()
        });
    }

    function _create(IEscrowFactory.EscrowParams memory p, uint256 amount) internal returns (Escrow) {
        vm.prank(payer);
        return Escrow(factory.createEscrow{value: p.token == address(0) ? amount : 0}(p, amount));
    }

    function _createEth() internal returns (Escrow) {
        return _create(_params(address(0)), AMOUNT);
    }

    function _createToken() internal returns (Escrow) {
        return _create(_params(address(usd)), 1_000e6);
    }

    function _approve(Escrow e, address who) internal {
        vm.prank(who);
        e.approve();
    }

    function _approveN(Escrow e, uint256 n) internal {
        address[] memory list = e.approvers();
        for (uint256 i; i < n; ++i) {
            _approve(e, list[i]);
        }
    }

    function _voteEmergency(Escrow e, uint256 n) internal {
        address[] memory list = e.approvers();
        for (uint256 i; i < n; ++i) {
            vm.prank(list[i]);
            e.approveEmergencyRefund();
        }
    }

    function _balance(Escrow e, address who) internal view returns (uint256) {
        address t = e.token();
        return t == address(0) ? who.balance : MockERC20(t).balanceOf(who);
    }

    /// @dev Asserts the escrow is Funded with `amount` and no pending payment.
    function _assertFunded(Escrow e, uint256 amount) internal view {
        assertEq(uint8(e.status()), uint8(IEscrow.Status.Funded));
        assertEq(e.amount(), amount);
        assertEq(_balance(e, address(e)), amount);
    }
}
