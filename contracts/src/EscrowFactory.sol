// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {Escrow} from "./Escrow.sol";
import {IEscrowFactory} from "./interfaces/IEscrowFactory.sol";
import {EscrowArgs} from "./libraries/EscrowArgs.sol";

/// @title EscrowFactory
/// @notice Deploys and funds escrows in one transaction, as EIP-1167 clones of one {Escrow}
///         implementation at CREATE2 addresses.
/// @dev The clone's immutable arguments hold the payer (= msg.sender) and every parameter, and the
///      CREATE2 salt is their hash, so an address is bound to its caller and parameters: nobody else
///      can deploy there (no front-running, no squatting) and {predictAddress} is exact.
contract EscrowFactory is IEscrowFactory {
    using SafeERC20 for IERC20;

    /// @notice Upper bound on the number of approvers (the approval bitmaps are 16 bits wide).
    uint256 public constant MAX_APPROVERS = 16;

    /// @inheritdoc IEscrowFactory
    address public immutable implementation;

    /// @notice Deploys the escrow implementation; only this factory can initialise its clones.
    constructor() {
        implementation = address(new Escrow());
    }

    /// @inheritdoc IEscrowFactory
    function createEscrow(EscrowParams calldata params, uint256 amount)
        external
        payable
        returns (address escrow)
    {
        _validate(params);
        if (amount == 0) revert ZeroAmount();
        bytes memory args = EscrowArgs.encode(msg.sender, params);
        bytes32 salt = keccak256(args);
        uint256 credited;
        if (params.token == address(0)) {
            if (msg.value != amount) revert ValueMismatch(msg.value, amount);
            escrow = Clones.cloneDeterministicWithImmutableArgs(implementation, args, salt, amount);
            credited = amount;
        } else {
            if (msg.value != 0) revert ValueMismatch(msg.value, 0);
            escrow = Clones.cloneDeterministicWithImmutableArgs(implementation, args, salt);
            IERC20 token = IERC20(params.token);
            uint256 balanceBefore = token.balanceOf(escrow);
            token.safeTransferFrom(msg.sender, escrow, amount);
            credited = token.balanceOf(escrow) - balanceBefore;
            if (credited == 0) revert ZeroAmount();
        }
        _emitCreated(escrow, params, credited);
        Escrow(escrow).initialize(credited);
    }

    /// @inheritdoc IEscrowFactory
    function predictAddress(address payer, EscrowParams calldata params) external view returns (address) {
        bytes memory args = EscrowArgs.encode(payer, params);
        return Clones.predictDeterministicAddressWithImmutableArgs(implementation, args, keccak256(args));
    }

    function _emitCreated(address escrow, EscrowParams calldata params, uint256 credited) private {
        emit EscrowCreated(
            escrow,
            params.settlementRef,
            msg.sender,
            params.payee,
            params.token,
            credited,
            params.arbiter,
            params.threshold,
            params.releaseTime,
            params.deadline,
            params.approvers
        );
    }

    function _validate(EscrowParams calldata params) private view {
        if (params.payee == address(0)) revert InvalidPayee();
        address[] calldata list = params.approvers;
        uint256 n = list.length;
        if (n == 0 || n > MAX_APPROVERS) revert InvalidApproverCount(n);
        if (params.threshold == 0 || params.threshold > n) revert InvalidThreshold(params.threshold, n);
        for (uint256 i; i < n; ++i) {
            address a = list[i];
            if (a == address(0)) revert InvalidApprover(a);
            for (uint256 j; j < i; ++j) {
                if (list[j] == a) revert DuplicateApprover(a);
            }
        }
        if (params.deadline <= block.timestamp) revert InvalidDeadline(params.deadline);
        if (params.releaseTime >= params.deadline) {
            revert InvalidReleaseTime(params.releaseTime, params.deadline);
        }
    }
}
