//! AWS partitions: which IAM endpoint and which SigV4 signing region a configured region implies.
//!
//! IAM is a global service with one endpoint per partition, signed for that partition's home
//! region. The table follows the IAM endpoint rules and partition data shipped with the AWS SDKs
//! (`partitions.json`: `regionRegex`, `dnsSuffix`; IAM's `endpoint-rule-set`: URL and
//! `signingRegion` per partition).

/// One AWS partition, as far as IAM is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// The partition id, e.g. `aws-cn`.
    pub id: &'static str,
    /// The partition's global IAM endpoint.
    pub iam_endpoint: &'static str,
    /// The region every IAM request of the partition is signed for.
    pub iam_signing_region: &'static str,
}

/// The commercial partition: also the answer for a region no partition claims, as in the SDKs.
pub const AWS: Partition = Partition {
    id: "aws",
    iam_endpoint: "https://iam.amazonaws.com/",
    iam_signing_region: "us-east-1",
};

/// Region name prefixes and their partitions. Longer prefixes come first (`us-isob-` before
/// `us-iso-`) so the first match is the right one.
const PARTITIONS: &[(&str, Partition)] = &[
    (
        "us-gov-",
        Partition {
            id: "aws-us-gov",
            iam_endpoint: "https://iam.us-gov.amazonaws.com/",
            iam_signing_region: "us-gov-west-1",
        },
    ),
    (
        "us-isob-",
        Partition {
            id: "aws-iso-b",
            iam_endpoint: "https://iam.us-isob-east-1.sc2s.sgov.gov/",
            iam_signing_region: "us-isob-east-1",
        },
    ),
    (
        "us-isof-",
        Partition {
            id: "aws-iso-f",
            iam_endpoint: "https://iam.us-isof-south-1.csp.hci.ic.gov/",
            iam_signing_region: "us-isof-south-1",
        },
    ),
    (
        "us-iso-",
        Partition {
            id: "aws-iso",
            iam_endpoint: "https://iam.us-iso-east-1.c2s.ic.gov/",
            iam_signing_region: "us-iso-east-1",
        },
    ),
    (
        "eu-isoe-",
        Partition {
            id: "aws-iso-e",
            iam_endpoint: "https://iam.eu-isoe-west-1.cloud.adc-e.uk/",
            iam_signing_region: "eu-isoe-west-1",
        },
    ),
    (
        "eusc-",
        Partition {
            id: "aws-eusc",
            iam_endpoint: "https://iam.eusc-de-east-1.amazonaws.eu/",
            iam_signing_region: "eusc-de-east-1",
        },
    ),
    (
        "cn-",
        Partition {
            id: "aws-cn",
            iam_endpoint: "https://iam.cn-north-1.amazonaws.com.cn/",
            iam_signing_region: "cn-north-1",
        },
    ),
];

/// The partition of `region` (e.g. `cn-northwest-1` → `aws-cn`); unknown regions are `aws`'s.
///
/// The SDKs' pseudo-regions `aws-cn-global`, `aws-us-gov-global`, ... name their partition too.
pub fn partition_of(region: &str) -> Partition {
    let region = region.trim().to_ascii_lowercase();
    if let Some(global) = region.strip_suffix("-global") {
        return PARTITIONS
            .iter()
            .map(|(_, p)| *p)
            .find(|p| p.id == global)
            .unwrap_or(AWS);
    }
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map(|(_, p)| *p)
        .unwrap_or(AWS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iam(region: &str) -> (&'static str, &'static str, &'static str) {
        let p = partition_of(region);
        (p.id, p.iam_endpoint, p.iam_signing_region)
    }

    #[test]
    fn the_three_public_partitions() {
        for region in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-7",
            "mx-central-1",
            "il-central-1",
        ] {
            assert_eq!(
                iam(region),
                ("aws", "https://iam.amazonaws.com/", "us-east-1"),
                "{region}"
            );
        }
        for region in ["cn-north-1", "cn-northwest-1"] {
            assert_eq!(
                iam(region),
                ("aws-cn", "https://iam.cn-north-1.amazonaws.com.cn/", "cn-north-1"),
                "{region}"
            );
        }
        for region in ["us-gov-west-1", "us-gov-east-1"] {
            assert_eq!(
                iam(region),
                ("aws-us-gov", "https://iam.us-gov.amazonaws.com/", "us-gov-west-1"),
                "{region}"
            );
        }
    }

    #[test]
    fn the_isolated_and_sovereign_partitions() {
        assert_eq!(
            iam("us-iso-west-1"),
            ("aws-iso", "https://iam.us-iso-east-1.c2s.ic.gov/", "us-iso-east-1")
        );
        assert_eq!(
            iam("us-isob-east-1"),
            (
                "aws-iso-b",
                "https://iam.us-isob-east-1.sc2s.sgov.gov/",
                "us-isob-east-1"
            )
        );
        assert_eq!(
            iam("eu-isoe-west-1"),
            (
                "aws-iso-e",
                "https://iam.eu-isoe-west-1.cloud.adc-e.uk/",
                "eu-isoe-west-1"
            )
        );
        assert_eq!(
            iam("us-isof-east-1"),
            (
                "aws-iso-f",
                "https://iam.us-isof-south-1.csp.hci.ic.gov/",
                "us-isof-south-1"
            )
        );
        assert_eq!(
            iam("eusc-de-east-1"),
            ("aws-eusc", "https://iam.eusc-de-east-1.amazonaws.eu/", "eusc-de-east-1")
        );
    }

    #[test]
    fn global_pseudo_regions_and_unknown_regions() {
        assert_eq!(partition_of("aws-cn-global").id, "aws-cn");
        assert_eq!(partition_of("aws-us-gov-global").id, "aws-us-gov");
        assert_eq!(partition_of("aws-iso-b-global").id, "aws-iso-b");
        assert_eq!(partition_of("aws-global").id, "aws");
        assert_eq!(partition_of("CN-NORTH-1").id, "aws-cn");
        assert_eq!(partition_of("mars-east-1"), AWS);
    }
}
