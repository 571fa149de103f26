//! KMS (2016-01-20): secrets with versions and stages, policies, tags, rotation settings and
//! deletion (recovery) windows. KMS is regional: each region (the call's `RegionId`, the seeded
//! region when absent) holds its own secrets, so a client that asks the wrong region finds nothing.

use super::{
    ACCOUNT_ID, Account, Answer, ApiError, Call, REGION, action_of, error_response, is_version, serve,
    server_error_response, timestamp,
};
use crate::{CloudApi, SandboxRequest};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const HOST: &str = "kms.cn-hangzhou.aliyuncs.com";
const CURRENT: &str = "ACSCurrent";
const PREVIOUS: &str = "ACSPrevious";
const SECRET_TYPES: [&str; 4] = ["Generic", "Rds", "RAMCredentials", "ECS"];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Version {
    id: String,
    data: String,
    data_type: String,
    stages: Vec<String>,
    create_time: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSecret {
    name: String,
    /// The region it lives in (snapshots older than regions hold the seeded one).
    #[serde(default = "seeded_region")]
    region: String,
    description: String,
    secret_type: String,
    encryption_key_id: String,
    dkms_instance_id: String,
    extended_config: Option<Value>,
    rotation: bool,
    rotation_interval: String,
    policies: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    versions: Vec<Version>,
    create_time: String,
    update_time: String,
    planned_delete_time: Option<DateTime<Utc>>,
}

impl StoredSecret {
    fn arn(&self) -> String {
        format!("acs:kms:{}:{ACCOUNT_ID}:secret/{}", self.region, self.name)
    }

    fn version_with(&self, stage: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.stages.iter().any(|s| s == stage))
    }

    fn version(&self, id: &str) -> Result<usize, ApiError> {
        self.versions.iter().position(|v| v.id == id).ok_or_else(|| {
            ApiError::new(
                404,
                "Forbidden.ResourceNotFound",
                format!("The secret version {id} of {} is not found.", self.name),
            )
        })
    }

    /// Moves `stage` to version `to`, away from whichever version held it; moving
    /// `ACSCurrent` hands `ACSPrevious` to the version that was current.
    fn move_stage(&mut self, stage: &str, to: usize) {
        let holder = self.versions.iter().position(|v| v.stages.iter().any(|s| s == stage));
        if holder == Some(to) {
            return;
        }
        for v in &mut self.versions {
            v.stages.retain(|s| s != stage);
        }
        if stage == CURRENT
            && let Some(old) = holder
        {
            for v in &mut self.versions {
                v.stages.retain(|s| s != PREVIOUS);
            }
            self.versions[old].stages.push(PREVIOUS.into());
        }
        self.versions[to].stages.push(stage.into());
    }

    fn rotation_status(&self) -> &'static str {
        match (self.secret_type.as_str(), self.rotation) {
            ("Generic", _) => "Invalid",
            (_, true) => "Enabled",
            (_, false) => "Disabled",
        }
    }
}

fn seeded_region() -> String {
    REGION.to_string()
}

/// Secrets by name, of one region.
type Secrets = BTreeMap<String, StoredSecret>;

/// The emulated KMS API.
pub struct Kms {
    account: Arc<Mutex<Account>>,
    /// Secrets by region.
    regions: Mutex<BTreeMap<String, Secrets>>,
    /// By region, no later than its earliest deletion window's end (locked after `regions`):
    /// a request sweeps the region's secrets only once a window may have ended.
    next_deletion: Mutex<BTreeMap<String, DateTime<Utc>>>,
}

impl Kms {
    /// KMS authenticating against the shared `account`.
    pub(crate) fn new(account: Arc<Mutex<Account>>) -> Self {
        Kms {
            account,
            regions: Mutex::new(BTreeMap::new()),
            next_deletion: Mutex::new(BTreeMap::new()),
        }
    }

    /// Notes that a deletion window of `region` ends at `at`.
    fn deletion_at(&self, region: &str, at: DateTime<Utc>) {
        let mut next = self.next_deletion.lock().expect("deletions lock");
        let earliest = next.entry(region.to_string()).or_insert(at);
        *earliest = (*earliest).min(at);
    }

    /// Ends the deletion windows of `secrets` (of `region`) that have passed.
    fn purge(&self, region: &str, secrets: &mut Secrets, now: DateTime<Utc>) {
        let mut next = self.next_deletion.lock().expect("deletions lock");
        if next.get(region).is_none_or(|at| *at > now) {
            return;
        }
        secrets.retain(|_, s| s.planned_delete_time.is_none_or(|t| t > now));
        match secrets.values().filter_map(|s| s.planned_delete_time).min() {
            Some(at) => next.insert(region.to_string(), at),
            None => next.remove(region),
        };
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        404,
        "Forbidden.ResourceNotFound",
        format!("The specified secret {name} is not found."),
    )
}

fn in_delete_window(name: &str) -> ApiError {
    ApiError::new(
        400,
        "Rejected.ResourceInDeleteWindow",
        format!("The secret {name} is pending deletion; restore it with RestoreSecret first."),
    )
}

fn default_policy() -> String {
    json!({"Version": "1", "Statement": [{"Sid": "kms default secret policy", "Effect": "Allow",
        "Principal": {"RAM": [format!("acs:ram::{ACCOUNT_ID}:*")]}, "Action": ["kms:*"], "Resource": ["*"]}]})
    .to_string()
}

fn parse_tags(text: &str) -> Result<BTreeMap<String, String>, ApiError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Tag {
        tag_key: String,
        #[serde(default)]
        tag_value: String,
    }
    let tags: Vec<Tag> = serde_json::from_str(text)
        .map_err(|_| ApiError::invalid("Tags must be a JSON array of {\"TagKey\":...,\"TagValue\":...}."))?;
    if tags
        .iter()
        .any(|t| t.tag_key.is_empty() || t.tag_key.starts_with("acs:") || t.tag_key.starts_with("aliyun"))
    {
        return Err(ApiError::invalid(
            "A TagKey must not be empty nor start with acs: or aliyun.",
        ));
    }
    Ok(tags.into_iter().map(|t| (t.tag_key, t.tag_value)).collect())
}

fn check_interval(interval: &str) -> Result<(), ApiError> {
    let seconds: u64 = interval
        .strip_suffix('s')
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| ApiError::invalid(format!("RotationInterval {interval:?} must be <integer>s.")))?;
    if !(6 * 3600..=365 * 24 * 3600).contains(&seconds) {
        return Err(ApiError::invalid(
            "RotationInterval must be between 6 hours and 365 days.",
        ));
    }
    Ok(())
}

fn check_data_type(data_type: &str) -> Result<(), ApiError> {
    match data_type {
        "text" | "binary" => Ok(()),
        other => Err(ApiError::invalid(format!(
            "SecretDataType must be text or binary, not {other}."
        ))),
    }
}

fn tags_view(tags: &BTreeMap<String, String>) -> Value {
    json!({"Tag": tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>()})
}

fn stages_view(v: &Version) -> Value {
    json!({"VersionStage": v.stages})
}

impl Kms {
    fn dispatch(&self, action: &str, call: &Call) -> Answer {
        let mut regions = self.regions.lock().expect("secrets lock");
        let region = call.get("RegionId").unwrap_or(REGION).to_string();
        let secrets = regions.entry(region.clone()).or_default();
        // Deletion windows that have passed end for good.
        self.purge(&region, secrets, call.now);
        match action {
            "CreateSecret" => return create(secrets, call),
            "ListSecrets" => {
                let list: Vec<Value> = secrets
                    .values()
                    .map(|s| {
                        json!({"SecretName": s.name, "SecretType": s.secret_type, "CreateTime": s.create_time,
                        "UpdateTime": s.update_time, "PlannedDeleteTime": s.planned_delete_time.map(timestamp)})
                    })
                    .collect();
                return Ok(
                    json!({"PageNumber": 1, "PageSize": list.len(), "TotalCount": list.len(), "SecretList": {"Secret": list}}),
                );
            }
            "ListTagResources" => return list_tags(secrets, call),
            _ => {}
        }
        if matches!(action, "TagResource" | "UntagResource") {
            let given = ["KeyId", "SecretName", "CertificateId"]
                .iter()
                .filter(|n| call.get(n).is_some())
                .count();
            if given != 1 {
                return Err(ApiError::invalid(
                    "Exactly one of KeyId, SecretName and CertificateId must be specified.",
                ));
            }
            if call.get("KeyId").is_some() || call.get("CertificateId").is_some() {
                return Err(ApiError::new(
                    404,
                    "Forbidden.ResourceNotFound",
                    "The specified key or certificate is not found.",
                ));
            }
        }
        let name = call.required("SecretName")?.to_string();
        let secret = secrets.get_mut(&name).ok_or_else(|| not_found(&name))?;
        let pending = secret.planned_delete_time.is_some();
        let allowed_while_pending = matches!(action, "DescribeSecret" | "RestoreSecret" | "DeleteSecret");
        if pending && !allowed_while_pending {
            return Err(in_delete_window(&name));
        }
        let now = timestamp(call.now);
        let changes = !matches!(
            action,
            "DescribeSecret" | "GetSecretValue" | "GetSecretPolicy" | "DeleteSecret" | "RestoreSecret"
        );
        if changes {
            secret.update_time = now.clone();
        }
        match action {
            "DescribeSecret" => {
                let mut body = json!({
                    "SecretName": secret.name, "Arn": secret.arn(), "Description": secret.description,
                    "EncryptionKeyId": secret.encryption_key_id, "CreateTime": secret.create_time, "UpdateTime": secret.update_time,
                    "SecretType": secret.secret_type, "AutomaticRotation": secret.rotation_status(),
                    "RotationInterval": secret.rotation_interval, "DKMSInstanceId": secret.dkms_instance_id,
                    "ExtendedConfig": secret.extended_config.as_ref().map(Value::to_string).unwrap_or_default(),
                    "PlannedDeleteTime": secret.planned_delete_time.map(timestamp).unwrap_or_default(),
                });
                if call.flag("FetchTags")? == Some(true) {
                    body["Tags"] = tags_view(&secret.tags);
                }
                Ok(body)
            }
            "GetSecretValue" => {
                let version = match (call.get("VersionId"), call.get("VersionStage")) {
                    (Some(id), _) => &secret.versions[secret.version(id)?],
                    (None, stage) => secret.version_with(stage.unwrap_or(CURRENT)).ok_or_else(|| {
                        ApiError::new(
                            404,
                            "Forbidden.ResourceNotFound",
                            format!("No version of {name} has the requested stage."),
                        )
                    })?,
                };
                Ok(json!({
                    "SecretName": secret.name, "VersionId": version.id, "CreateTime": version.create_time,
                    "SecretData": version.data, "SecretDataType": version.data_type, "VersionStages": stages_view(version),
                    "SecretType": secret.secret_type, "AutomaticRotation": secret.rotation_status(),
                    "RotationInterval": secret.rotation_interval,
                    "ExtendedConfig": secret.extended_config.as_ref().map(Value::to_string).unwrap_or_default(),
                }))
            }
            "PutSecretValue" => {
                let id = call.required("VersionId")?.to_string();
                let data = call.required("SecretData")?.to_string();
                let data_type = call.get("SecretDataType").unwrap_or("text").to_string();
                check_data_type(&data_type)?;
                if let Some(existing) = secret.versions.iter().find(|v| v.id == id) {
                    // The same call again is accepted (it is how a client retries); other data is not.
                    if existing.data != data {
                        return Err(ApiError::new(
                            400,
                            "Rejected.ResourceExist",
                            format!("The secret version {id} already exists."),
                        ));
                    }
                    return Ok(json!({"SecretName": name, "VersionId": id, "VersionStages": stages_view(existing)}));
                }
                secret.versions.push(Version {
                    id: id.clone(),
                    data,
                    data_type,
                    stages: vec![],
                    create_time: now,
                });
                let index = secret.versions.len() - 1;
                match call.get("VersionStages") {
                    Some(text) => {
                        let stages: Vec<String> = serde_json::from_str(text)
                            .map_err(|_| ApiError::invalid("VersionStages must be a JSON array of strings."))?;
                        for stage in stages {
                            secret.move_stage(&stage, index);
                        }
                    }
                    None => secret.move_stage(CURRENT, index),
                }
                Ok(json!({"SecretName": name, "VersionId": id, "VersionStages": stages_view(&secret.versions[index])}))
            }
            "UpdateSecret" => {
                // An empty Description clears it.
                if let Some(description) = call.given("Description") {
                    secret.description = description.to_string();
                }
                if let Some(custom) = call.get("ExtendedConfig.CustomData") {
                    if secret.secret_type == "Generic" {
                        return Err(ApiError::invalid("Generic secrets have no extended configuration."));
                    }
                    let custom: Value = serde_json::from_str(custom)
                        .ok()
                        .filter(Value::is_object)
                        .ok_or_else(|| ApiError::invalid("ExtendedConfig.CustomData must be a JSON object."))?;
                    let config = secret.extended_config.get_or_insert_with(|| json!({}));
                    config["CustomData"] = custom;
                }
                Ok(json!({"SecretName": name}))
            }
            "UpdateSecretRotationPolicy" => {
                let enabled = call
                    .flag("EnableAutomaticRotation")?
                    .ok_or_else(|| ApiError::missing("EnableAutomaticRotation"))?;
                if secret.secret_type == "Generic" && enabled {
                    return Err(ApiError::invalid("Generic secrets do not support automatic rotation."));
                }
                if let Some(interval) = call.get("RotationInterval") {
                    check_interval(interval)?;
                    secret.rotation_interval = interval.to_string();
                }
                secret.rotation = enabled;
                Ok(json!({"SecretName": name}))
            }
            "SetSecretPolicy" => {
                let policy = call.required("Policy")?;
                serde_json::from_str::<Value>(policy)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| ApiError::invalid("Policy must be a JSON object."))?;
                secret.policies.insert(
                    call.get("PolicyName").unwrap_or("default").to_string(),
                    policy.to_string(),
                );
                Ok(json!({}))
            }
            "GetSecretPolicy" => {
                let policy_name = call.get("PolicyName").unwrap_or("default");
                let policy = secret.policies.get(policy_name).ok_or_else(|| {
                    ApiError::new(
                        404,
                        "Forbidden.ResourceNotFound",
                        format!("The policy {policy_name} of {name} is not found."),
                    )
                })?;
                Ok(json!({"Policy": policy}))
            }
            "UpdateSecretVersionStage" => {
                let stage = call.required("VersionStage")?.to_string();
                let (to, from) = (call.get("MoveToVersion"), call.get("RemoveFromVersion"));
                if to.is_none() && from.is_none() {
                    return Err(ApiError::invalid(
                        "Specify at least one of RemoveFromVersion and MoveToVersion.",
                    ));
                }
                if (stage == CURRENT || stage == PREVIOUS) && to.is_none() {
                    return Err(ApiError::invalid(format!(
                        "MoveToVersion is required when VersionStage is {stage}."
                    )));
                }
                if let Some(from) = from {
                    let index = secret.version(from)?;
                    if !secret.versions[index].stages.contains(&stage) {
                        return Err(ApiError::invalid(format!(
                            "The version {from} does not have the stage {stage}."
                        )));
                    }
                    if to.is_none() {
                        secret.versions[index].stages.retain(|s| *s != stage);
                    }
                }
                if let Some(to) = to {
                    let index = secret.version(to)?;
                    secret.move_stage(&stage, index);
                }
                Ok(json!({"SecretName": name}))
            }
            "TagResource" => {
                let tags = parse_tags(call.required("Tags")?)?;
                if secret.tags.len() + tags.keys().filter(|k| !secret.tags.contains_key(*k)).count() > 20 {
                    return Err(ApiError::new(
                        400,
                        "Rejected.LimitExceeded",
                        "A secret may have at most 20 tags.",
                    ));
                }
                secret.tags.extend(tags);
                Ok(json!({}))
            }
            "UntagResource" => {
                let keys: Vec<String> = serde_json::from_str(call.required("TagKeys")?)
                    .map_err(|_| ApiError::invalid("TagKeys must be a JSON array of strings."))?;
                for key in keys {
                    secret.tags.remove(&key);
                }
                Ok(json!({}))
            }
            "DeleteSecret" => {
                if call.flag("ForceDeleteWithoutRecovery")? == Some(true) {
                    secrets.remove(&name);
                    return Ok(json!({"SecretName": name, "PlannedDeleteTime": now}));
                }
                if pending {
                    return Err(in_delete_window(&name));
                }
                let days: i64 = match call.get("RecoveryWindowInDays") {
                    None => 30,
                    Some(text) => text.parse().ok().filter(|d| (7..=30).contains(d)).ok_or_else(|| {
                        ApiError::invalid("RecoveryWindowInDays must be a whole number of days from 7 to 30.")
                    })?,
                };
                let planned = call.now + TimeDelta::days(days);
                secret.planned_delete_time = Some(planned);
                self.deletion_at(&region, planned);
                Ok(json!({"SecretName": name, "PlannedDeleteTime": timestamp(planned)}))
            }
            "RestoreSecret" => {
                if !pending {
                    return Err(ApiError::invalid(format!("The secret {name} is not pending deletion.")));
                }
                secret.planned_delete_time = None;
                Ok(json!({"SecretName": name}))
            }
            other => Err(ApiError::new(
                404,
                "InvalidAction.NotFound",
                format!("Specified api is not found, please check your url and method: {other}"),
            )),
        }
    }
}

fn create(secrets: &mut Secrets, call: &Call) -> Answer {
    let name = call.required("SecretName")?.to_string();
    let data = call.required("SecretData")?.to_string();
    let version_id = call.required("VersionId")?.to_string();
    if let Some(existing) = secrets.get(&name) {
        let message = match existing.planned_delete_time {
            Some(t) => format!(
                "The secret {name} already exists and is pending deletion until {}.",
                timestamp(t)
            ),
            None => format!("The secret {name} already exists."),
        };
        return Err(ApiError::new(400, "Rejected.ResourceExist", message));
    }
    let secret_type = call.get("SecretType").unwrap_or("Generic").to_string();
    if !SECRET_TYPES.contains(&secret_type.as_str()) {
        return Err(ApiError::invalid(format!(
            "SecretType must be one of {SECRET_TYPES:?}."
        )));
    }
    let data_type = call.get("SecretDataType").unwrap_or("text").to_string();
    check_data_type(&data_type)?;
    let rotation = call.flag("EnableAutomaticRotation")?.unwrap_or(false);
    if rotation && secret_type == "Generic" {
        return Err(ApiError::invalid("Generic secrets do not support automatic rotation."));
    }
    let interval = call.get("RotationInterval").unwrap_or_default().to_string();
    if !interval.is_empty() {
        check_interval(&interval)?;
    }
    let extended_config = match call.get("ExtendedConfig") {
        Some(text) => Some(
            serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| ApiError::invalid("ExtendedConfig must be a JSON object."))?,
        ),
        None => None,
    };
    let policy = match call.get("Policy") {
        Some(p) if serde_json::from_str::<Value>(p).is_ok_and(|v| v.is_object()) => p.to_string(),
        Some(_) => return Err(ApiError::invalid("Policy must be a JSON object.")),
        None => default_policy(),
    };
    let tags = call.get("Tags").map(parse_tags).transpose()?.unwrap_or_default();
    let now = timestamp(call.now);
    let secret = StoredSecret {
        name: name.clone(),
        region: call.get("RegionId").unwrap_or(REGION).to_string(),
        description: call.get("Description").unwrap_or_default().to_string(),
        secret_type: secret_type.clone(),
        encryption_key_id: call.get("EncryptionKeyId").unwrap_or("key-sandbox-default").to_string(),
        dkms_instance_id: call.get("DKMSInstanceId").unwrap_or_default().to_string(),
        extended_config,
        rotation,
        rotation_interval: interval,
        policies: BTreeMap::from([("default".to_string(), policy)]),
        tags,
        versions: vec![Version {
            id: version_id.clone(),
            data,
            data_type,
            stages: vec![CURRENT.into()],
            create_time: now.clone(),
        }],
        create_time: now.clone(),
        update_time: now,
        planned_delete_time: None,
    };
    let body = json!({
        "Arn": secret.arn(), "VersionId": version_id, "SecretName": name, "SecretType": secret_type,
        "AutomaticRotation": secret.rotation_status(), "RotationInterval": secret.rotation_interval,
        "ExtendedConfig": secret.extended_config.as_ref().map(Value::to_string).unwrap_or_default(),
        "DKMSInstanceId": secret.dkms_instance_id,
    });
    secrets.insert(name, secret);
    Ok(body)
}

fn list_tags(secrets: &Secrets, call: &Call) -> Answer {
    let wanted: Vec<&str> = (1..=50).map_while(|i| call.get(&format!("ResourceId.{i}"))).collect();
    if wanted.is_empty() {
        return Err(ApiError::missing("ResourceId.1"));
    }
    let mut found = Vec::new();
    for name in wanted {
        let secret = secrets.get(name).ok_or_else(|| not_found(name))?;
        found.extend(
            secret
                .tags
                .iter()
                .map(|(k, v)| json!({"ResourceId": name, "ResourceType": "secret", "TagKey": k, "TagValue": v})),
        );
    }
    Ok(json!({"NextToken": "", "TagResources": {"TagResource": found}}))
}

impl CloudApi for Kms {
    fn name(&self) -> &'static str {
        "alicloud-kms"
    }

    fn matches(&self, req: &SandboxRequest) -> bool {
        is_version(req, "2016-01-20")
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        action_of(req)
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        serve(HOST, &self.account, req, |action, call| self.dispatch(action, call))
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        error_response(HOST, &ApiError::new(429, "Rejected.Throttling", "QPS Limit Exceeded"))
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        server_error_response(HOST)
    }

    fn fixtures(&self) -> Value {
        super::fixtures()
    }

    fn provider_settings(&self, base_url: &str) -> Value {
        super::provider_settings(base_url)
    }

    /// `secrets`: those of the seeded region; `other_regions`: the rest, by region.
    fn snapshot(&self) -> Value {
        let mut regions = self.regions.lock().expect("secrets lock").clone();
        let seeded = regions.remove(REGION).unwrap_or_default();
        regions.retain(|_, secrets| !secrets.is_empty());
        json!({"secrets": seeded, "other_regions": regions})
    }

    fn restore(&self, state: &Value) -> Result<(), String> {
        let part = |name: &str| state.get(name).cloned().unwrap_or_else(|| json!({}));
        let mut regions: BTreeMap<String, Secrets> =
            serde_json::from_value(part("other_regions")).map_err(|e| e.to_string())?;
        let seeded: Secrets = serde_json::from_value(part("secrets")).map_err(|e| e.to_string())?;
        regions.insert(REGION.to_string(), seeded);
        let mut all = self.regions.lock().expect("secrets lock");
        *all = regions;
        *self.next_deletion.lock().expect("deletions lock") = all
            .iter()
            .filter_map(|(region, secrets)| {
                let earliest = secrets.values().filter_map(|s| s.planned_delete_time).min()?;
                Some((region.clone(), earliest))
            })
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(now: DateTime<Utc>, params: &[(&str, &str)]) -> Call {
        Call {
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            caller: "admin".into(),
            now,
        }
    }

    fn names(kms: &Kms, now: DateTime<Utc>) -> Vec<String> {
        let listed = kms.dispatch("ListSecrets", &call(now, &[])).unwrap();
        let list = listed["SecretList"]["Secret"].as_array().unwrap().clone();
        list.iter()
            .map(|s| s["SecretName"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn deletion_windows_end_when_they_pass_and_not_before() {
        let kms = Kms::new(Arc::new(Mutex::new(Account::seeded())));
        let t0 = Utc::now();
        for name in ["a", "b", "c"] {
            let new = [("SecretName", name), ("SecretData", "d"), ("VersionId", "v1")];
            kms.dispatch("CreateSecret", &call(t0, &new)).unwrap();
        }
        let delete = |name, days| {
            let params = [("SecretName", name), ("RecoveryWindowInDays", days)];
            kms.dispatch("DeleteSecret", &call(t0, &params)).unwrap();
        };
        delete("a", "7");
        delete("b", "10");
        assert_eq!(
            names(&kms, t0 + TimeDelta::days(7) - TimeDelta::seconds(1)),
            ["a", "b", "c"]
        );
        assert_eq!(names(&kms, t0 + TimeDelta::days(7)), ["b", "c"]);
        // Restored state: its windows count too.
        let state = kms.snapshot();
        let restored = Kms::new(Arc::new(Mutex::new(Account::seeded())));
        restored.restore(&state).unwrap();
        assert_eq!(names(&restored, t0 + TimeDelta::days(8)), ["b", "c"]);
        assert_eq!(names(&restored, t0 + TimeDelta::days(10)), ["c"]);
    }
}
