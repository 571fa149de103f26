//! RAM (2015-05-01): the AccessKey calls.

use super::client::{Params, RpcClient};
use crate::cloud::call::Call;
use crate::cloud::error::CloudError;
use crate::cloud::retry::Idempotency;
use crate::secrets::Secret;
use serde::Deserialize;

/// The RAM API.
#[derive(Clone)]
pub struct RamClient {
    rpc: RpcClient,
}

/// An AccessKey as RAM describes it. `AccessKeySecret` comes only from CreateAccessKey.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKey {
    /// The key id.
    pub access_key_id: String,
    /// The secret, only in the CreateAccessKey answer.
    #[serde(default)]
    pub access_key_secret: Option<Secret<String>>,
    /// `Active` or `Inactive`.
    #[serde(default)]
    pub status: String,
    /// When it was created, `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(default)]
    pub create_date: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateAccessKeyResponse {
    access_key: AccessKey,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAccessKeysResponse {
    access_keys: AccessKeyList,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccessKeyList {
    #[serde(default)]
    access_key: Vec<AccessKey>,
}

#[derive(Deserialize)]
struct Ignored {}

fn with_user(user_name: Option<&str>, mut params: Params) -> Params {
    if let Some(user) = user_name {
        params.push(("UserName".into(), user.into()));
    }
    params
}

impl RamClient {
    /// A RAM client over `rpc`.
    pub fn new(rpc: RpcClient) -> Self {
        RamClient { rpc }
    }

    /// CreateAccessKey for `user_name`, or for the caller when `None`. Not retried after an
    /// ambiguous failure: the caller reconciles by listing.
    pub async fn create_access_key(&self, call: &Call, user_name: Option<&str>) -> Result<AccessKey, CloudError> {
        let params = with_user(user_name, Vec::new());
        let out: CreateAccessKeyResponse = self
            .rpc
            .call(call, Idempotency::NotIdempotent, "CreateAccessKey", &params)
            .await?;
        Ok(out.access_key)
    }

    /// UpdateAccessKey: sets the status (`Active` or `Inactive`).
    pub async fn update_access_key(
        &self,
        call: &Call,
        user_name: Option<&str>,
        access_key_id: &str,
        status: &str,
    ) -> Result<(), CloudError> {
        let params = with_user(
            user_name,
            vec![
                ("UserAccessKeyId".into(), access_key_id.into()),
                ("Status".into(), status.into()),
            ],
        );
        self.rpc
            .call::<Ignored>(call, Idempotency::Idempotent, "UpdateAccessKey", &params)
            .await
            .map(drop)
    }

    /// ListAccessKeys of `user_name`, or of the caller.
    pub async fn list_access_keys(&self, call: &Call, user_name: Option<&str>) -> Result<Vec<AccessKey>, CloudError> {
        let params = with_user(user_name, Vec::new());
        let out: ListAccessKeysResponse = self
            .rpc
            .call(call, Idempotency::Idempotent, "ListAccessKeys", &params)
            .await?;
        Ok(out.access_keys.access_key)
    }

    /// DeleteAccessKey.
    pub async fn delete_access_key(
        &self,
        call: &Call,
        user_name: Option<&str>,
        access_key_id: &str,
    ) -> Result<(), CloudError> {
        let params = with_user(user_name, vec![("UserAccessKeyId".into(), access_key_id.into())]);
        self.rpc
            .call::<Ignored>(call, Idempotency::Idempotent, "DeleteAccessKey", &params)
            .await
            .map(drop)
    }
}
