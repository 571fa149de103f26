//! `s3://bucket/prefix[?endpoint=URL&region=R&path_style=true|false]`: where an S3 state lives,
//! and the S3 client to reach it.
//!
//! The client is the AWS SDK's `aws-sdk-s3`, configured by `aws-config` as the rest of credplane's
//! AWS code is: credentials from the standard chain (environment, profile, SSO, web identity,
//! ECS, IMDS), region from `AWS_REGION`/the profile, and the endpoint from
//! `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (or `?endpoint=`). It was chosen over
//! `object_store` because it shares aws-config and the aws-smithy runtime already in the build
//! (object_store 0.14 would add reqwest 0.13, quick-xml 0.41 and aws-lc-rs beside ours) and
//! supports `If-None-Match: *` on PutObject. Its cost: the crate is large (about ten minutes of
//! a first debug build on two cores, dependencies being built at opt-level 2), and it brings
//! two small second versions (`spin` 0.10 through crc-fast, `hashbrown` 0.16 through lru).

use super::StateError;

/// Where a stack's state objects live, parsed from an `s3://` URL.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without a trailing `/` (may be empty).
    pub prefix: String,
    /// `?endpoint=`: overrides `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// `?region=`: overrides `AWS_REGION` and the profile's region.
    pub region: Option<String>,
    /// `?path_style=`: bucket in the path instead of the host name. Defaults to true when an
    /// endpoint is overridden (S3-compatible stores and emulators usually need it).
    pub path_style: Option<bool>,
}

/// One rule of a bucket name (S3's naming rules), with the text of its error.
type Rule = (&'static str, fn(&str) -> bool);

const BUCKET_RULES: &[Rule] = &[
    ("3 to 63 characters", |b| (3..=63).contains(&b.len())),
    ("only lowercase letters, digits, '.' and '-'", |b| {
        b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    }),
    ("begins and ends with a letter or digit", |b| {
        let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        edge(b.chars().next()) && edge(b.chars().last())
    }),
];

fn backend_error(rule: String) -> StateError {
    StateError::Invalid(format!("backend: {rule}"))
}

impl S3Location {
    /// Parses `s3://bucket/prefix?options`; each malformed part is an error naming it.
    pub fn parse(url: &str) -> Result<S3Location, StateError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| backend_error(format!("{url:?} is not an s3:// URL")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if let Some((rule, _)) = BUCKET_RULES.iter().find(|(_, ok)| !ok(bucket)) {
            return Err(backend_error(format!(
                "the bucket name {bucket:?} of {url:?} must have {rule}"
            )));
        }
        let prefix = prefix.trim_matches('/').to_string();
        if prefix.split('/').any(|part| part == "." || part == "..") {
            return Err(backend_error(format!(
                "the prefix {prefix:?} of {url:?} must not contain . or .. segments"
            )));
        }
        let mut location = S3Location {
            bucket: bucket.to_string(),
            prefix,
            endpoint: None,
            region: None,
            path_style: None,
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "endpoint" if value.starts_with("http://") || value.starts_with("https://") => {
                    location.endpoint = Some(value.to_string())
                }
                "endpoint" => {
                    return Err(backend_error(format!(
                        "endpoint: {value:?} must be an http:// or https:// URL"
                    )));
                }
                "region" if !value.is_empty() => location.region = Some(value.to_string()),
                "path_style" => {
                    location.path_style = Some(
                        value
                            .parse()
                            .map_err(|_| backend_error(format!("path_style: {value:?} must be true or false")))?,
                    )
                }
                other => {
                    return Err(backend_error(format!(
                        "unknown option {other:?} in {url:?} (known: endpoint, region, path_style)"
                    )));
                }
            }
        }
        Ok(location)
    }

    /// `s3://bucket/prefix`, for messages (the options left out).
    pub fn url(&self) -> String {
        match self.prefix.as_str() {
            "" => format!("s3://{}", self.bucket),
            p => format!("s3://{}/{p}", self.bucket),
        }
    }

    /// The key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        match self.prefix.as_str() {
            "" => name.to_string(),
            p => format!("{p}/{name}"),
        }
    }

    /// The S3 client for this location.
    pub async fn client(&self) -> aws_sdk_s3::Client {
        use aws_config::environment::region::EnvironmentVariableRegionProvider;
        use aws_config::meta::region::RegionProviderChain;
        use aws_config::profile::ProfileFileRegionProvider;
        use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
        // The SDK's region chain without its last source, EC2 instance metadata: off EC2 that
        // lookup only waits and warns. S3-compatible stores expect us-east-1 when none is set.
        let region = RegionProviderChain::first_try(self.region.clone().map(Region::new))
            .or_else(EnvironmentVariableRegionProvider::new())
            .or_else(ProfileFileRegionProvider::new())
            .or_else(Region::new("us-east-1"));
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(crate::cloud::aws::credentials::http_client())
            .region(region)
            .load()
            .await;
        let mut config = aws_sdk_s3::config::Builder::from(&sdk)
            // Checksums only where S3 requires them: several S3-compatible stores refuse the
            // SDK's default trailing checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint);
        }
        let overridden = self.endpoint.is_some() || endpoint_from_env();
        config = config.force_path_style(self.path_style.unwrap_or(overridden));
        aws_sdk_s3::Client::from_conf(config.build())
    }
}

/// Whether the environment overrides the S3 endpoint (as aws-config reads it).
fn endpoint_from_env() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_ok_and(|v| v == "true");
    !ignored && (set("AWS_ENDPOINT_URL_S3") || set("AWS_ENDPOINT_URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_bucket_prefix_and_options() {
        let l = S3Location::parse(
            "s3://my-bucket/team/states/?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=false",
        )
        .unwrap();
        assert_eq!(
            l,
            S3Location {
                bucket: "my-bucket".into(),
                prefix: "team/states".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("eu-west-1".into()),
                path_style: Some(false),
            }
        );
        assert_eq!(l.key("dev.json"), "team/states/dev.json");
        assert_eq!(l.url(), "s3://my-bucket/team/states");
        let bare = S3Location::parse("s3://bucket").unwrap();
        assert_eq!(
            (bare.prefix.as_str(), bare.key("dev.lock")),
            ("", "dev.lock".to_string())
        );
    }

    /// One row per rule: the URL and a piece of the error it must give.
    const BAD: &[(&str, &str)] = &[
        ("s3://ab/p", "must have 3 to 63 characters"),
        ("s3://My-Bucket/p", "only lowercase letters"),
        ("s3://-bucket/p", "begins and ends with a letter or digit"),
        ("s3:///p", "must have 3 to 63 characters"),
        ("s3://bucket/a/../b", "must not contain . or .."),
        (
            "s3://bucket/p?endpoint=ftp://x",
            "endpoint: \"ftp://x\" must be an http:// or https:// URL",
        ),
        (
            "s3://bucket/p?path_style=yes",
            "path_style: \"yes\" must be true or false",
        ),
        ("s3://bucket/p?profile=x", "unknown option \"profile\""),
    ];

    #[test]
    fn each_malformed_part_is_named() {
        for (url, expected) in BAD {
            let err = S3Location::parse(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
            assert!(err.starts_with("backend: "), "{url}: {err}");
        }
    }
}
