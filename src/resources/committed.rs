//! The schema documents committed under `schema/resources/`, compiled into the binary: the
//! provider serves and validates against these, and derives them from the Rust types only to
//! write or check those files (see [`super::schema_doc::load`]).

/// The committed document of `type_name`, as text.
pub fn document_text(type_name: &str) -> Option<&'static str> {
    macro_rules! committed {
        ($($name:literal),* $(,)?) => {
            match type_name {
                $($name => Some(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/resources/", $name, ".json"))),)*
                _ => None,
            }
        };
    }
    committed!(
        "aws_iam_access_key",
        "oci_identity_customer_secret_key",
        "oci_identity_auth_token",
        "alicloud_ram_access_key",
        "alicloud_kms_secret",
    )
}
