"""Behaviour of the generated Python resources: wire names, enums, secrets, outputs, unknowns."""

import unittest

from credplane.runtime import Secret
from credplane.resources import (
    AlicloudKmsSecret,
    AlicloudKmsSecretArgs,
    AwsIamAccessKey,
    AwsIamAccessKeyArgs,
    AwsIamAccessKeyState,
    KeyStatus,
    SecretType,
)


class ArgsToWire(unittest.TestCase):
    def test_omits_none_and_unwraps_enums(self) -> None:
        args = AwsIamAccessKeyArgs(user="alice", status=KeyStatus.INACTIVE)
        self.assertEqual(args.to_wire(), {"user": "alice", "status": "Inactive"})

    def test_secret_inputs_are_enveloped_even_when_plain(self) -> None:
        for value in ("s3cr3t", Secret("s3cr3t")):
            wire = AlicloudKmsSecretArgs(
                secret_name="db", secret_data=value, version_id="v1", secret_type=SecretType.GENERIC
            ).to_wire()
            self.assertEqual(wire["secret_data"], {"$credplane": "secret", "value": "s3cr3t"})
            self.assertEqual(wire["secret_type"], "Generic")

    def test_outputs_are_left_in_place(self) -> None:
        key = AwsIamAccessKey("k", AwsIamAccessKeyArgs(user="alice"))
        secret = AlicloudKmsSecret(
            "s",
            AlicloudKmsSecretArgs(secret_name=key.user, secret_data="x", version_id=key.id),
            depends_on=[key],
        )
        self.assertIs(secret.inputs["secret_name"].resource, key)
        self.assertEqual(secret.inputs["version_id"].prop, "id")
        self.assertEqual(AwsIamAccessKey.TYPE, "aws_iam_access_key")


class StateFromWire(unittest.TestCase):
    def test_envelopes_unknowns_and_enums(self) -> None:
        state = AwsIamAccessKeyState.from_wire(
            {
                "id": "AKIA1",
                "user": "alice",
                "status": "Active",
                "secret": {"$credplane": "secret", "value": "wJal"},
                "create_date": {"$credplane": "unknown"},
            }
        )
        self.assertEqual(state.status, KeyStatus.ACTIVE)
        self.assertIsInstance(state.secret, Secret)
        assert state.secret is not None
        self.assertEqual(state.secret.value, "wJal")
        self.assertIsNone(state.create_date)
        self.assertNotIn("wJal", repr(state))


if __name__ == "__main__":
    unittest.main()
