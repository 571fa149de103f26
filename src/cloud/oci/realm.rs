//! OCI realms and regions: the endpoint's domain follows the region's realm (`oc1`
//! `oraclecloud.com`, the US and UK government realms, the sovereign and dedicated ones), and
//! the three-letter region keys (`iad`, `phx`, ...) name regions too. The table is the OCI
//! SDKs' (Go `common/regions.go`); a region not in it is taken to be in `oc1`, as the SDKs do.

/// `(region key, region, realm)` for every region the SDKs know.
const REGIONS: &[(&str, &str, &str)] = &[
    ("yny", "ap-chuncheon-1", "oc1"),
    ("hyd", "ap-hyderabad-1", "oc1"),
    ("mel", "ap-melbourne-1", "oc1"),
    ("bom", "ap-mumbai-1", "oc1"),
    ("kix", "ap-osaka-1", "oc1"),
    ("icn", "ap-seoul-1", "oc1"),
    ("syd", "ap-sydney-1", "oc1"),
    ("nrt", "ap-tokyo-1", "oc1"),
    ("yul", "ca-montreal-1", "oc1"),
    ("yyz", "ca-toronto-1", "oc1"),
    ("ams", "eu-amsterdam-1", "oc1"),
    ("fra", "eu-frankfurt-1", "oc1"),
    ("zrh", "eu-zurich-1", "oc1"),
    ("jed", "me-jeddah-1", "oc1"),
    ("dxb", "me-dubai-1", "oc1"),
    ("gru", "sa-saopaulo-1", "oc1"),
    ("cwl", "uk-cardiff-1", "oc1"),
    ("lhr", "uk-london-1", "oc1"),
    ("iad", "us-ashburn-1", "oc1"),
    ("phx", "us-phoenix-1", "oc1"),
    ("sjc", "us-sanjose-1", "oc1"),
    ("vcp", "sa-vinhedo-1", "oc1"),
    ("scl", "sa-santiago-1", "oc1"),
    ("mtz", "il-jerusalem-1", "oc1"),
    ("mrs", "eu-marseille-1", "oc1"),
    ("sin", "ap-singapore-1", "oc1"),
    ("auh", "me-abudhabi-1", "oc1"),
    ("lin", "eu-milan-1", "oc1"),
    ("arn", "eu-stockholm-1", "oc1"),
    ("jnb", "af-johannesburg-1", "oc1"),
    ("cdg", "eu-paris-1", "oc1"),
    ("qro", "mx-queretaro-1", "oc1"),
    ("mad", "eu-madrid-1", "oc1"),
    ("ord", "us-chicago-1", "oc1"),
    ("mty", "mx-monterrey-1", "oc1"),
    ("aga", "us-saltlake-2", "oc1"),
    ("bog", "sa-bogota-1", "oc1"),
    ("vap", "sa-valparaiso-1", "oc1"),
    ("xsp", "ap-singapore-2", "oc1"),
    ("ruh", "me-riyadh-1", "oc1"),
    ("onm", "ap-delhi-1", "oc1"),
    ("hsg", "ap-batam-1", "oc1"),
    ("lfi", "us-langley-1", "oc2"),
    ("luf", "us-luke-1", "oc2"),
    ("ric", "us-gov-ashburn-1", "oc3"),
    ("pia", "us-gov-chicago-1", "oc3"),
    ("tus", "us-gov-phoenix-1", "oc3"),
    ("ltn", "uk-gov-london-1", "oc4"),
    ("brs", "uk-gov-cardiff-1", "oc4"),
    ("nja", "ap-chiyoda-1", "oc8"),
    ("ukb", "ap-ibaraki-1", "oc8"),
    ("mct", "me-dcc-muscat-1", "oc9"),
    ("ibr", "me-ibri-1", "oc9"),
    ("wga", "ap-dcc-canberra-1", "oc10"),
    ("bgy", "eu-dcc-milan-1", "oc14"),
    ("mxp", "eu-dcc-milan-2", "oc14"),
    ("snn", "eu-dcc-dublin-2", "oc14"),
    ("dtm", "eu-dcc-rating-2", "oc14"),
    ("dus", "eu-dcc-rating-1", "oc14"),
    ("ork", "eu-dcc-dublin-1", "oc14"),
    ("dac", "ap-dcc-gazipur-1", "oc15"),
    ("vll", "eu-madrid-2", "oc19"),
    ("str", "eu-frankfurt-2", "oc19"),
    ("beg", "eu-jovanovac-1", "oc20"),
    ("doh", "me-dcc-doha-1", "oc21"),
    ("ebb", "us-somerset-1", "oc23"),
    ("ebl", "us-thames-1", "oc23"),
    ("avz", "eu-dcc-zurich-1", "oc24"),
    ("avf", "eu-crissier-1", "oc24"),
    ("ahu", "me-abudhabi-3", "oc26"),
    ("rba", "me-alain-1", "oc26"),
    ("rkt", "me-abudhabi-2", "oc29"),
    ("shj", "me-abudhabi-4", "oc29"),
    ("dtz", "ap-seoul-2", "oc35"),
    ("dln", "ap-suwon-1", "oc35"),
    ("bno", "ap-chuncheon-2", "oc35"),
    ("yxj", "us-ashburn-2", "oc42"),
    ("pgc", "us-newark-1", "oc42"),
    ("jsk", "eu-budapest-1", "oc51"),
];

/// `(realm, second-level domain)`.
const REALMS: &[(&str, &str)] = &[
    ("oc1", "oraclecloud.com"),
    ("oc2", "oraclegovcloud.com"),
    ("oc3", "oraclegovcloud.com"),
    ("oc4", "oraclegovcloud.uk"),
    ("oc8", "oraclecloud8.com"),
    ("oc9", "oraclecloud9.com"),
    ("oc10", "oraclecloud10.com"),
    ("oc14", "oraclecloud14.com"),
    ("oc15", "oraclecloud15.com"),
    ("oc19", "oraclecloud.eu"),
    ("oc20", "oraclecloud20.com"),
    ("oc21", "oraclecloud21.com"),
    ("oc23", "oraclecloud23.com"),
    ("oc24", "oraclecloud24.com"),
    ("oc26", "oraclecloud26.com"),
    ("oc29", "oraclecloud29.com"),
    ("oc35", "oraclecloud35.com"),
    ("oc42", "oraclecloud42.com"),
    ("oc51", "oraclecloud51.com"),
];

/// The realm assumed for a region the table does not know.
pub const DEFAULT_REALM: &str = "oc1";

/// The region's full name: a region key (`iad`, `IAD`) becomes its region (`us-ashburn-1`);
/// anything else is returned lowercased.
pub fn canonical_region(region: &str) -> String {
    let lower = region.trim().to_ascii_lowercase();
    REGIONS
        .iter()
        .find(|(key, _, _)| *key == lower)
        .map_or(lower, |(_, name, _)| (*name).to_string())
}

/// The region key (`IAD`) of a region, as the region subscriptions API names it.
pub fn region_key(region: &str) -> Option<&'static str> {
    let name = canonical_region(region);
    REGIONS.iter().find(|(_, n, _)| *n == name).map(|(key, _, _)| *key)
}

/// The realm of a region (or region key); [`DEFAULT_REALM`] when unknown.
pub fn realm_of(region: &str) -> &'static str {
    let name = canonical_region(region);
    REGIONS
        .iter()
        .find(|(_, n, _)| *n == name)
        .map_or(DEFAULT_REALM, |(_, _, realm)| *realm)
}

/// The second-level domain of a realm.
pub fn realm_domain(realm: &str) -> Option<&'static str> {
    REALMS.iter().find(|(r, _)| *r == realm).map(|(_, d)| *d)
}

/// `https://<service>.<region>.<realm domain>`, such as
/// `https://identity.us-gov-ashburn-1.oraclegovcloud.com`.
pub fn service_endpoint(service: &str, region: &str) -> String {
    let name = canonical_region(region);
    let domain = realm_domain(realm_of(&name)).unwrap_or("oraclecloud.com");
    format!("https://{service}.{name}.{domain}")
}

/// The Identity endpoint of a region.
pub fn identity_endpoint(region: &str) -> String {
    service_endpoint("identity", region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_realm_gets_its_own_domain() {
        assert_eq!(
            identity_endpoint("us-ashburn-1"),
            "https://identity.us-ashburn-1.oraclecloud.com"
        );
        assert_eq!(
            identity_endpoint("us-langley-1"),
            "https://identity.us-langley-1.oraclegovcloud.com"
        );
        assert_eq!(
            identity_endpoint("us-gov-ashburn-1"),
            "https://identity.us-gov-ashburn-1.oraclegovcloud.com"
        );
        assert_eq!(
            identity_endpoint("uk-gov-london-1"),
            "https://identity.uk-gov-london-1.oraclegovcloud.uk"
        );
        assert_eq!(
            identity_endpoint("ap-chiyoda-1"),
            "https://identity.ap-chiyoda-1.oraclecloud8.com"
        );
        assert_eq!(
            identity_endpoint("eu-frankfurt-2"),
            "https://identity.eu-frankfurt-2.oraclecloud.eu"
        );
        assert_eq!(
            identity_endpoint("eu-budapest-1"),
            "https://identity.eu-budapest-1.oraclecloud51.com"
        );
        // Unknown regions stay in the commercial realm, as in the SDKs.
        assert_eq!(
            identity_endpoint("xx-new-1"),
            "https://identity.xx-new-1.oraclecloud.com"
        );
    }

    #[test]
    fn region_keys_map_to_regions_both_ways() {
        assert_eq!(canonical_region("iad"), "us-ashburn-1");
        assert_eq!(canonical_region("PHX"), "us-phoenix-1");
        assert_eq!(canonical_region("ric"), "us-gov-ashburn-1");
        assert_eq!(canonical_region("US-Ashburn-1"), "us-ashburn-1");
        assert_eq!(
            identity_endpoint("ltn"),
            "https://identity.uk-gov-london-1.oraclegovcloud.uk"
        );
        assert_eq!(region_key("us-phoenix-1"), Some("phx"));
        assert_eq!(region_key("xx-new-1"), None);
        assert_eq!(realm_of("tus"), "oc3");
    }

    #[test]
    fn every_region_names_a_known_realm_and_keys_are_unique() {
        for (key, name, realm) in REGIONS {
            assert!(realm_domain(realm).is_some(), "{name}: {realm}");
            assert_eq!(REGIONS.iter().filter(|(k, _, _)| k == key).count(), 1, "{key}");
            assert_eq!(REGIONS.iter().filter(|(_, n, _)| n == name).count(), 1, "{name}");
        }
    }
}
