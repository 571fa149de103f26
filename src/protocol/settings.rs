//! The per-cloud settings of `configure`: wire types, so that the protocol needs nothing from
//! the cloud layer (which reads them).

pub mod alicloud;
pub mod aws;
pub mod oci;
