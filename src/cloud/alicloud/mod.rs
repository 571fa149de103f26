//! Alibaba Cloud: RPC signatures, the credential chain (STS, OIDC, ECS RAM role), and the RAM and KMS APIs.

pub mod client;
pub mod config;
pub mod credentials;
pub mod kms;
pub mod ram;
pub mod settings;
pub mod sign;
