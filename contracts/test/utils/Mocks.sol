// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {IEscrow} from "../../src/interfaces/IEscrow.sol";

/// @dev Plain mintable ERC-20 with configurable decimals.
contract MockERC20 is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 value) external {
        _mint(to, value);
    }
}

/// @dev Burns `feeBps` of every transfer (fee-on-transfer token).
contract FeeOnTransferToken is MockERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) MockERC20("Fee Token", "FEE", 18) {
        feeBps = feeBps_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value * feeBps / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @dev Mimics USDT: transfer/transferFrom/approve return nothing; failures revert.
contract NoBoolToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;
    mapping(address => bool) public blocked;

    function mint(address to, uint256 value) external {
        balanceOf[to] += value;
        totalSupply += value;
    }

    function setBlocked(address who, bool isBlocked) external {
        blocked[who] = isBlocked;
    }

    function approve(address spender, uint256 value) external {
        allowance[msg.sender][spender] = value;
    }

    function transfer(address to, uint256 value) external {
        _move(msg.sender, to, value);
    }

    function transferFrom(address from, address to, uint256 value) external {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= value, "allowance");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
    }

    function _move(address from, address to, uint256 value) private {
        require(!blocked[to] && !blocked[from], "blocked");
        require(balanceOf[from] >= value, "balance");
        balanceOf[from] -= value;
        balanceOf[to] += value;
    }
}

/// @dev Returns false (instead of reverting) when a transfer goes to a blocked address.
contract FalseReturningToken is MockERC20 {
    mapping(address => bool) public blocked;

    constructor() MockERC20("False Token", "FLS", 18) {}

    function setBlocked(address who, bool isBlocked) external {
        blocked[who] = isBlocked;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (blocked[to]) return false;
        return super.transfer(to, value);
    }
}

/// @dev A recipient whose ETH receive hook reverts while `rejecting` is set.
contract RevertingReceiver {
    bool public rejecting = true;

    error Rejected();

    function setRejecting(bool value) external {
        rejecting = value;
    }

    receive() external payable {
        if (rejecting) revert Rejected();
    }
}

/// @dev A recipient that burns all gas it is given (and cannot be paid at all).
contract GasBurner {
    receive() external payable {
        while (true) {}
    }
}

/// @dev A recipient that returns a huge revert payload.
contract ReturnBomb {
    receive() external payable {
        assembly {
            revert(0, 1000000)
        }
    }
}

/// @dev A recipient that re-enters the escrow from its receive hook, recording what happened.
contract ReentrantReceiver {
    enum Attack {
        None,
        Release,
        Refund,
        Withdraw,
        EmergencyRefund,
        ArbiterDecide,
        Approve
    }

    IEscrow public target;
    Attack public attack;
    bool public rejecting; // while set, receive() reverts (forces a deferred payment)
    bool public attempted;
    bool public reentered; // true if a re-entrant call succeeded
    bytes public revertData;

    function arm(IEscrow target_, Attack attack_) external {
        target = target_;
        attack = attack_;
    }

    function setRejecting(bool value) external {
        rejecting = value;
    }

    /// @dev Lets the receiver act as an approver or arbiter for the re-entrancy scenarios.
    function callApprove(IEscrow e) external {
        e.approve();
    }

    function callArbiterDecide(IEscrow e, bool releaseToPayee) external {
        e.arbiterDecide(releaseToPayee);
    }

    function callWithdraw(IEscrow e) external {
        e.withdraw();
    }

    receive() external payable {
        require(!rejecting, "rejecting");
        if (attack == Attack.None || attempted) return;
        attempted = true;
        bytes memory data;
        if (attack == Attack.Release) data = abi.encodeCall(IEscrow.release, ());
        else if (attack == Attack.Refund) data = abi.encodeCall(IEscrow.refund, ());
        else if (attack == Attack.Withdraw) data = abi.encodeCall(IEscrow.withdraw, ());
        else if (attack == Attack.EmergencyRefund) data = abi.encodeCall(IEscrow.emergencyRefund, ());
        else if (attack == Attack.ArbiterDecide) data = abi.encodeCall(IEscrow.arbiterDecide, (true));
        else data = abi.encodeCall(IEscrow.approve, ());
        (bool ok, bytes memory ret) = address(target).call(data);
        reentered = ok;
        revertData = ret;
    }
}

/// @dev A contract approver/arbiter (stands in for a cross-chain message handler).
contract ContractParty {
    function approve(IEscrow e) external {
        e.approve();
    }

    function revokeApproval(IEscrow e) external {
        e.revokeApproval();
    }

    function approveEmergencyRefund(IEscrow e) external {
        e.approveEmergencyRefund();
    }

    function arbiterDecide(IEscrow e, bool releaseToPayee) external {
        e.arbiterDecide(releaseToPayee);
    }
}
