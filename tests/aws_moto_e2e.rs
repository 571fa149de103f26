//! `aws_iam_access_key` end to end against moto's IAM, with signature checking on.
//!
//! Needs `MOTO_SERVER`, the path of the `moto_server` executable (`pip install "moto[server]"`;
//! `scripts/test-aws-sdk.sh` does it). The test fails, never skips, when it is missing.

mod aws_common;

use aws_common::moto::{BOOTSTRAP_CALLS, bootstrap, start_moto};
use aws_common::*;

#[tokio::test]
async fn moto_lifecycle_and_signatures() {
    let moto = start_moto(Some(BOOTSTRAP_CALLS)).await;
    let admin = bootstrap(&moto).await;
    // Signatures are now checked: unsigned-ok bootstrap creds are refused.
    let (status, body) = iam_call(&moto.endpoint, "AKIABOOTSTRAP0000000", "bootstrap", "ListUsers", &[]).await;
    assert_eq!(
        status, 403,
        "moto must check signatures after the bootstrap calls: {body}"
    );
    lifecycle_scenario(&admin, "bob").await;
    wrong_secret_scenario(&admin, "bob").await;
}
