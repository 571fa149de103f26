//! Secret handling: PGP encryption and the SES SMTP password.

pub mod pgp;
pub mod ses;
