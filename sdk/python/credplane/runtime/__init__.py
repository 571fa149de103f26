"""The credplane runtime: resources, outputs, secrets, the provider client and the stack engine."""

from .client import CheckResult, Client, CreateResult, DiffResult, ReadResult, provider_command
from .errors import (
    Cancelled,
    CheckFailed,
    CloudError,
    ConfigurationError,
    CredplaneError,
    Failure,
    InvalidParams,
    PartiallyCreated,
    PassphraseRequired,
    PendingOperationError,
    RpcError,
    StateError,
    Timeout,
    TransportError,
    Unsupported,
)
from .output import Input, MissingOutput, Output
from .plan import Plan, PropertyChange, Step
from .resource import Resource
from .secret import UNKNOWN, Secret, Unknown
from .stack import Stack
from .state import ResourceState, StackState, StateFile

__all__ = [
    "Cancelled", "CheckFailed", "CheckResult", "Client", "CloudError", "ConfigurationError",
    "CreateResult", "CredplaneError", "DiffResult", "Failure", "Input", "InvalidParams", "MissingOutput", "Output",
    "PartiallyCreated", "PassphraseRequired", "PendingOperationError", "Plan", "PropertyChange",
    "ReadResult", "Resource", "ResourceState", "RpcError", "Secret", "Stack", "StackState",
    "StateError", "StateFile", "Step", "Timeout", "TransportError", "UNKNOWN", "Unknown",
    "Unsupported", "provider_command",
]
