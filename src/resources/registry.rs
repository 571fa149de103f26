//! The registry: every resource type the provider serves, one line each.

use super::typed::{DynResource, Typed};
use super::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every resource type, by name.
#[derive(Clone)]
pub struct Registry {
    types: BTreeMap<&'static str, Arc<dyn DynResource>>,
}

/// Builds the registry.
pub fn all() -> Registry {
    let list: Vec<Arc<dyn DynResource>> = vec![
        Arc::new(Typed::new(aws_iam_access_key::AwsIamAccessKey)),
        Arc::new(Typed::new(oci_identity_auth_token::OciIdentityAuthToken::new())),
        Arc::new(Typed::new(
            oci_identity_customer_secret_key::OciIdentityCustomerSecretKey::new(),
        )),
        Arc::new(Typed::new(alicloud_ram_access_key::AlicloudRamAccessKey)),
        Arc::new(Typed::new(alicloud_kms_secret::AlicloudKmsSecret)),
    ];
    Registry {
        types: list.into_iter().map(|r| (r.type_name(), r)).collect(),
    }
}

impl Registry {
    /// The resource type called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn DynResource>> {
        self.types.get(name)
    }

    /// Every type, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn DynResource>> {
        self.types.values()
    }

    /// The type names.
    pub fn names(&self) -> Vec<&'static str> {
        self.types.keys().copied().collect()
    }
}
