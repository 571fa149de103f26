//! Cloud clients, one folder per cloud. Signing is pure and apart from transport.

pub mod alicloud;
pub mod aws;
pub mod error;
pub mod oci;
pub mod retry;
