//! Secret handling: PGP encryption and the SES SMTP password.

pub mod pgp;
pub mod pgp_source;
pub mod ses;
