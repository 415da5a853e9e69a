// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {
    IAxelarGateway
} from "@axelar-network/axelar-gmp-sdk-solidity/contracts/interfaces/IAxelarGateway.sol";

/// @title AxelarGatewayDouble
/// @notice Stand-in for Axelar's gateway in tests and on a local anvil. Behaves like the real one where
///         our contracts can tell: `callContract` emits `ContractCall`; a command id is approved once for
///         one (source chain, source address, destination contract, payload hash); `validateContractCall`
///         returns true exactly once for the approved destination contract (the caller) and marks the
///         command executed, and false for anything else. Approval — the validators' job — is done by
///         the `operator`.
contract AxelarGatewayDouble is IAxelarGateway {
    struct OutgoingCall {
        address sender;
        string destinationChain;
        string destinationContractAddress;
        bytes payload;
    }

    event ContractCallApproved(
        bytes32 indexed commandId,
        string sourceChain,
        string sourceAddress,
        address indexed contractAddress,
        bytes32 indexed payloadHash
    );
    event ContractCallExecuted(bytes32 indexed commandId);

    error NotOperator();
    error NoCalls();

    bytes32 internal constant EXECUTED = bytes32(uint256(1));

    address public immutable operator;
    mapping(bytes32 commandId => bytes32 approvalOrExecuted) private _commands;
    OutgoingCall[] private _calls;

    constructor() {
        operator = msg.sender;
    }

    function callContract(
        string calldata destinationChain,
        string calldata contractAddress,
        bytes calldata payload
    ) external {
        _calls.push(OutgoingCall(msg.sender, destinationChain, contractAddress, payload));
        emit ContractCall(msg.sender, destinationChain, contractAddress, keccak256(payload), payload);
    }

    /// @notice What Axelar's validators do on the destination chain. A known command id is ignored.
    function approveContractCall(
        bytes32 commandId,
        string calldata sourceChain,
        string calldata sourceAddress,
        address contractAddress,
        bytes32 payloadHash
    ) external {
        if (msg.sender != operator) revert NotOperator();
        if (_commands[commandId] != bytes32(0)) return;
        _commands[commandId] =
            _approvalHash(commandId, sourceChain, sourceAddress, contractAddress, payloadHash);
        emit ContractCallApproved(commandId, sourceChain, sourceAddress, contractAddress, payloadHash);
    }

    function validateContractCall(
        bytes32 commandId,
        string calldata sourceChain,
        string calldata sourceAddress,
        bytes32 payloadHash
    ) external returns (bool valid) {
        valid = _commands[commandId]
            == _approvalHash(commandId, sourceChain, sourceAddress, msg.sender, payloadHash);
        if (valid) {
            _commands[commandId] = EXECUTED;
            emit ContractCallExecuted(commandId);
        }
    }

    function isContractCallApproved(
        bytes32 commandId,
        string calldata sourceChain,
        string calldata sourceAddress,
        address contractAddress,
        bytes32 payloadHash
    ) external view returns (bool) {
        return _commands[commandId]
            == _approvalHash(commandId, sourceChain, sourceAddress, contractAddress, payloadHash);
    }

    function isCommandExecuted(bytes32 commandId) external view returns (bool) {
        return _commands[commandId] == EXECUTED;
    }

    function callCount() external view returns (uint256) {
        return _calls.length;
    }

    function outgoingCall(uint256 index) external view returns (OutgoingCall memory) {
        return _calls[index];
    }

    function lastCall() external view returns (OutgoingCall memory) {
        if (_calls.length == 0) revert NoCalls();
        return _calls[_calls.length - 1];
    }

    function _approvalHash(
        bytes32 commandId,
        string calldata sourceChain,
        string calldata sourceAddress,
        address contractAddress,
        bytes32 payloadHash
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(commandId, sourceChain, sourceAddress, contractAddress, payloadHash));
    }
}

/// @title AxelarGasServiceDouble
/// @notice Stand-in for Axelar's gas service: `payNativeGasForContractCall` keeps the native payment,
///         records it and emits Axelar's `NativeGasPaidForContractCall`; a zero payment reverts, like the
///         real service.
contract AxelarGasServiceDouble {
    struct Payment {
        address sender;
        string destinationChain;
        string destinationAddress;
        bytes32 payloadHash;
        uint256 amount;
        address refundAddress;
    }

    event NativeGasPaidForContractCall(
        address indexed sourceAddress,
        string destinationChain,
        string destinationAddress,
        bytes32 indexed payloadHash,
        uint256 gasFeeAmount,
        address refundAddress
    );

    error NothingReceived();

    Payment[] private _payments;

    function payNativeGasForContractCall(
        address sender,
        string calldata destinationChain,
        string calldata destinationAddress,
        bytes calldata payload,
        address refundAddress
    ) external payable {
        if (msg.value == 0) revert NothingReceived();
        bytes32 payloadHash = keccak256(payload);
        _payments.push(
            Payment(sender, destinationChain, destinationAddress, payloadHash, msg.value, refundAddress)
        );
        emit NativeGasPaidForContractCall(
            sender, destinationChain, destinationAddress, payloadHash, msg.value, refundAddress
        );
    }

    function paymentCount() external view returns (uint256) {
        return _payments.length;
    }

    function payment(uint256 index) external view returns (Payment memory) {
        return _payments[index];
    }
}
