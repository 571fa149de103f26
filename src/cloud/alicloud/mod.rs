//! Alibaba Cloud: RPC signatures and the RAM and KMS APIs.

pub mod settings;
pub mod sign;
