//! Identity writes go to the tenancy's home region: create, update and delete anywhere else
//! fail with `403 NotAllowed` ("Please go to your home region ..."). The home region is found
//! once per client with `ListRegionSubscriptions` (`isHomeRegion`), a read that any region
//! answers, and writes are sent to that region's endpoint.

use super::realm::{canonical_region, identity_endpoint};
use serde::Deserialize;

/// The placeholder of an endpoint template (`http://127.0.0.1:8080/region/{region}`), so that an
/// overridden endpoint can still follow the region.
pub const REGION_PLACEHOLDER: &str = "{region}";

/// How to find the endpoint of a region.
#[derive(Debug, Clone)]
pub enum Endpoints {
    /// `https://identity.<region>.<realm domain>`.
    Realm,
    /// A template holding [`REGION_PLACEHOLDER`].
    Template(String),
}

impl Endpoints {
    /// The Identity endpoint of `region`.
    pub fn for_region(&self, region: &str) -> String {
        match self {
            Endpoints::Realm => identity_endpoint(region),
            Endpoints::Template(t) => t
                .replace(REGION_PLACEHOLDER, &canonical_region(region))
                .trim_end_matches('/')
                .to_string(),
        }
    }
}

/// What the client needs to send writes to the home region.
#[derive(Debug, Clone)]
pub struct HomeRegion {
    /// The tenancy OCID.
    pub tenancy: String,
    /// The configured region.
    pub region: String,
    /// How region endpoints are made.
    pub endpoints: Endpoints,
}

/// One `RegionSubscription`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSubscription {
    /// `IAD`.
    #[serde(default)]
    pub region_key: String,
    /// `us-ashburn-1`.
    pub region_name: String,
    /// `READY` or `IN_PROGRESS`.
    #[serde(default)]
    pub status: String,
    /// Whether it is the tenancy's home region.
    #[serde(default)]
    pub is_home_region: bool,
}

/// The path of ListRegionSubscriptions (under the API prefix).
pub fn subscriptions_path(tenancy: &str) -> String {
    format!("/tenancies/{tenancy}/regionSubscriptions")
}

impl HomeRegion {
    /// The endpoint writes go to, from the subscriptions: the home region's, or `None` when the
    /// configured region is the home region (or none is marked).
    pub fn write_endpoint(&self, subscriptions: &[RegionSubscription]) -> Option<String> {
        let home = subscriptions.iter().find(|s| s.is_home_region)?;
        let configured = canonical_region(&self.region);
        (canonical_region(&home.region_name) != configured).then(|| self.endpoints.for_region(&home.region_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(name: &str, home: bool) -> RegionSubscription {
        RegionSubscription {
            region_key: String::new(),
            region_name: name.into(),
            status: "READY".into(),
            is_home_region: home,
        }
    }

    #[test]
    fn writes_go_to_the_home_region_only_when_it_is_another() {
        let h = HomeRegion {
            tenancy: "t".into(),
            region: "phx".into(),
            endpoints: Endpoints::Realm,
        };
        let subs = [sub("us-phoenix-1", false), sub("us-ashburn-1", true)];
        assert_eq!(
            h.write_endpoint(&subs).as_deref(),
            Some("https://identity.us-ashburn-1.oraclecloud.com")
        );
        let home = HomeRegion {
            region: "us-ashburn-1".into(),
            ..h.clone()
        };
        assert_eq!(home.write_endpoint(&subs), None);
        let templated = HomeRegion {
            endpoints: Endpoints::Template("http://127.0.0.1:9/region/{region}/".into()),
            ..h
        };
        assert_eq!(
            templated.write_endpoint(&subs).as_deref(),
            Some("http://127.0.0.1:9/region/us-ashburn-1")
        );
    }
}
