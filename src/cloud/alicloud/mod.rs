//! Alibaba Cloud: RPC signatures, the credential chain, and the RAM and KMS APIs.

pub mod client;
pub mod config;
pub mod kms;
pub mod ram;
pub mod settings;
pub mod sign;
