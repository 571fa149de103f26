//! What the two OCI Identity credential types share: the user OCID rule and the lifecycle attributes.

use super::rules::{str_prop, Rule};
use crate::protocol::PropertyMap;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// `ocid1.user.<realm>.[region][.future use].<unique id>`.
static USER_OCID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ocid1\.user\.[a-z0-9]+\.[a-z0-9-]*(\.[a-z0-9-]+)?\.[a-z0-9]+$").expect("valid regex"));

/// The `user_id` rule both OCI types use.
pub const USER_ID_RULE: Rule = Rule { name: "user_id is a user OCID", property: "user_id", check: user_ocid };

fn user_ocid(inputs: &PropertyMap) -> Option<String> {
    let value = str_prop(inputs, "user_id")?;
    (!USER_OCID.is_match(value))
        .then(|| "must be a user OCID of the form ocid1.user.<realm>.[region].<unique id>".to_string())
}

/// The lifecycle attributes of an OCI Identity credential.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct OciLifecycle {
    /// The current state: CREATING, ACTIVE, INACTIVE, DELETING or DELETED (from `lifecycleState`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub state: Option<String>,
    /// The detailed status of INACTIVE lifecycleState (from `inactiveStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub inactive_state: Option<String>,
    /// Date and time the object was created, in the format defined by RFC3339. Example:
    /// `2016-08-25T21:10:29.600Z`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub time_created: Option<String>,
    /// Date and time when this credential will expire, in the format defined by RFC3339. Null if
    /// it never expires. Example: `2016-08-25T21:10:29.600Z`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub time_expires: Option<String>,
}
