"""The stack state: a local JSON file, written atomically with mode 0600.

Secret values never reach the disk in plaintext: each is stored as
``{"$credplane": "secret", "ciphertext": "<base64 nonce||AES-256-GCM ciphertext>"}`` with a key
derived by scrypt from ``CREDPLANE_PASSPHRASE`` and a random salt kept in the file's
``encryption`` header (with a verifier, so a wrong passphrase is reported as such).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import PassphraseRequired, StateError
from .secret import ENVELOPE_KEY, Secret, Unknown, reveal, unwrap, wrap

STATE_VERSION = 1
PASSPHRASE_ENV = "CREDPLANE_PASSPHRASE"
_AAD = b"credplane-state-v1"
_VERIFIER = b"credplane-state-verifier"
DEFAULT_SCRYPT_N = 2**15


@dataclass
class ResourceState:
    type: str
    name: str
    id: str
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    partial: bool = False
    """Created, but a later step of the creation failed (error -32004)."""


@dataclass
class PendingOperation:
    """A create that was started; removed once its outcome is recorded."""

    op: str
    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)


@dataclass
class StackState:
    stack: str
    resources: list[ResourceState] = field(default_factory=list)
    pending: list[PendingOperation] = field(default_factory=list)
    pending_deletes: list[ResourceState] = field(default_factory=list)
    """Replaced resources whose deletion has not completed yet."""

    def get(self, name: str) -> ResourceState | None:
        for r in self.resources:
            if r.name == name:
                return r
        return None

    def put(self, resource: ResourceState) -> None:
        for i, r in enumerate(self.resources):
            if r.name == resource.name:
                self.resources[i] = resource
                return
        self.resources.append(resource)

    def remove(self, name: str) -> None:
        self.resources = [r for r in self.resources if r.name != name]

    def has_secrets(self) -> bool:
        from .secret import contains_secret

        every = self.resources + self.pending_deletes
        return any(contains_secret(r.inputs) or contains_secret(r.outputs) for r in every) or any(
            contains_secret(p.inputs) for p in self.pending
        )


class _Cipher:
    def __init__(self, passphrase: str, salt: bytes, n: int, r: int, p: int) -> None:
        key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext, _AAD)).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:12], raw[12:], _AAD)


def _has_ciphertext(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get(ENVELOPE_KEY) == "secret" and "ciphertext" in value:
            return True
        return any(_has_ciphertext(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_ciphertext(v) for v in value)
    return False


class StateFile:
    """Loads and saves a :class:`StackState` at ``path``."""

    def __init__(self, path: str | os.PathLike[str], passphrase: str | None = None, *, scrypt_n: int | None = None) -> None:
        self.path = os.fspath(path)
        self._passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV) or None
        self._scrypt_n = scrypt_n or DEFAULT_SCRYPT_N
        self._header: dict[str, Any] | None = None
        self._cipher: _Cipher | None = None
        self.write_only: dict[str, frozenset[str]] | None = None
        """Per resource type, the inputs the schema flags ``x-writeOnly``: never saved."""

    @property
    def has_passphrase(self) -> bool:
        return bool(self._passphrase)

    def require_passphrase(self, why: str) -> None:
        if not self._passphrase:
            raise PassphraseRequired(f"set {PASSPHRASE_ENV}: {why}")

    # --- encryption ------------------------------------------------------------------------

    def _cipher_for(self, header: dict[str, Any] | None) -> _Cipher:
        if not self._passphrase:
            raise PassphraseRequired(f"the state {self.path} holds secrets: set {PASSPHRASE_ENV} to decrypt them")
        if self._cipher is not None and header is self._header:
            return self._cipher
        if header is None:
            header = {
                "cipher": "AES-256-GCM",
                "kdf": "scrypt",
                "salt": base64.b64encode(os.urandom(16)).decode("ascii"),
                "n": self._scrypt_n,
                "r": 8,
                "p": 1,
            }
            cipher = _Cipher(self._passphrase, base64.b64decode(header["salt"]), header["n"], 8, 1)
            header["verifier"] = cipher.encrypt(_VERIFIER)
        else:
            if header.get("cipher") != "AES-256-GCM" or header.get("kdf") != "scrypt":
                raise StateError(f"unsupported state encryption {header.get('cipher')}/{header.get('kdf')}")
            cipher = _Cipher(
                self._passphrase,
                base64.b64decode(header["salt"]),
                int(header["n"]),
                int(header["r"]),
                int(header["p"]),
            )
            try:
                ok = cipher.decrypt(str(header["verifier"])) == _VERIFIER
            except (InvalidTag, ValueError, KeyError):
                ok = False
            if not ok:
                raise StateError(f"wrong {PASSPHRASE_ENV} for the state {self.path}")
        self._header = header
        self._cipher = cipher
        return cipher

    def _kept(self, type: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        dropped = (self.write_only or {}).get(type, frozenset())
        return {k: v for k, v in inputs.items() if k not in dropped}

    def _seal(self, value: Any) -> Any:
        if isinstance(value, Secret):
            plaintext = json.dumps(wrap(reveal(value)), separators=(",", ":")).encode("utf-8")
            return {ENVELOPE_KEY: "secret", "ciphertext": self._cipher_for(self._header).encrypt(plaintext)}
        if isinstance(value, Unknown):
            raise StateError("an unknown value cannot be saved in the state")
        if isinstance(value, dict):
            return {k: self._seal(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._seal(v) for v in value]
        return value

    def _open(self, value: Any) -> Any:
        if isinstance(value, dict):
            if value.get(ENVELOPE_KEY) == "secret" and "ciphertext" in value:
                try:
                    plaintext = self._cipher_for(self._header).decrypt(str(value["ciphertext"]))
                except (InvalidTag, ValueError) as exc:
                    raise StateError(f"a secret in {self.path} cannot be decrypted") from exc
                return Secret(reveal(unwrap(json.loads(plaintext))))
            if value.get(ENVELOPE_KEY) == "secret" and "value" in value:
                raise StateError(f"{self.path} holds a plaintext secret; refusing to load it")
            return {k: self._open(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._open(v) for v in value]
        return value

    # --- load / save -----------------------------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def load(self, stack: str) -> StackState:
        if not self.exists():
            return StackState(stack=stack)
        try:
            with open(self.path, "r", encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as exc:
            raise StateError(f"cannot read the state {self.path}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
            raise StateError(f"{self.path}: not a credplane state file (version {STATE_VERSION})")
        header = doc.get("encryption")
        self._header = header if isinstance(header, dict) else None
        self._cipher = None
        if _has_ciphertext(doc):
            if self._header is None:
                raise StateError(f"{self.path}: encrypted values but no encryption header")
            self._cipher_for(self._header)  # fails early on a missing or wrong passphrase

        def res(d: dict[str, Any]) -> ResourceState:
            return ResourceState(
                type=str(d["type"]),
                name=str(d["name"]),
                id=str(d.get("id") or ""),
                inputs=self._open(d.get("inputs") or {}),
                outputs=self._open(d.get("outputs") or {}),
                dependencies=[str(x) for x in d.get("dependencies") or []],
                partial=bool(d.get("partial", False)),
            )

        try:
            return StackState(
                stack=str(doc.get("stack") or stack),
                resources=[res(d) for d in doc.get("resources") or []],
                pending=[
                    PendingOperation(
                        op=str(p["op"]),
                        type=str(p["type"]),
                        name=str(p["name"]),
                        inputs=self._open(p.get("inputs") or {}),
                        dependencies=[str(x) for x in p.get("dependencies") or []],
                    )
                    for p in doc.get("pending") or []
                ],
                pending_deletes=[res(d) for d in doc.get("pendingDeletes") or []],
            )
        except (KeyError, TypeError) as exc:
            raise StateError(f"{self.path}: malformed state: {exc}") from exc

    def save(self, state: StackState) -> None:
        if state.has_secrets():
            self.require_passphrase("the state would hold secrets, which are only ever stored encrypted")
            self._cipher_for(self._header)

        def res(r: ResourceState) -> dict[str, Any]:
            d: dict[str, Any] = {
                "type": r.type,
                "name": r.name,
                "id": r.id,
                "inputs": self._seal(self._kept(r.type, r.inputs)),
                "outputs": self._seal(r.outputs),
                "dependencies": list(r.dependencies),
            }
            if r.partial:
                d["partial"] = True
            return d

        doc: dict[str, Any] = {
            "version": STATE_VERSION,
            "stack": state.stack,
            "encryption": self._header,
            "resources": [res(r) for r in state.resources],
            "pending": [
                {"op": p.op, "type": p.type, "name": p.name, "inputs": self._seal(self._kept(p.type, p.inputs)), "dependencies": p.dependencies}
                for p in state.pending
            ],
            "pendingDeletes": [res(r) for r in state.pending_deletes],
        }
        write_atomic(self.path, (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode("utf-8"))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Holds an exclusive advisory lock on ``<path>.lock`` (one run at a time per state)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            yield
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StateError(f"another run holds {self.path}.lock") from exc
            yield
        finally:
            os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    """Writes ``data`` to a temp file (mode 0600) in the same directory, fsyncs it, then renames."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
