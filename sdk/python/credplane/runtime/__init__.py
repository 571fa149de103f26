"""The credplane runtime: resources, outputs, secrets, the transport and a Stack facade over the
engine inside ``credplane`` (docs/engine.md)."""

from .client import Client, provider_command
from .errors import CredplaneError, Failure, RpcError, TransportError
from credplane._codes import (
    Cancelled, CloudError, ConfigurationError, DependencyFailed, InvalidParams, Locked, MayExist, PartiallyCreated,
    PassphraseRequired, Protected, StateError, Timeout, Unsupported,
)
from .output import Input, MissingOutput, Output
from .plan import Plan, PropertyChange, Step
from .resource import Resource
from .secret import UNKNOWN, Secret, Unknown
from .stack import Stack

__all__ = [
    "Cancelled", "Client", "CloudError", "ConfigurationError", "CredplaneError", "DependencyFailed",
    "Failure", "Input", "InvalidParams", "Locked", "MayExist", "MissingOutput", "Output", "PartiallyCreated",
    "PassphraseRequired", "Plan", "PropertyChange", "Protected", "Resource", "RpcError", "Secret",
    "Stack", "StateError", "Step", "Timeout", "TransportError", "UNKNOWN", "Unknown", "Unsupported", "provider_command",
]
