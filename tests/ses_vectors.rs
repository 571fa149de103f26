//! SES SMTP password vectors (the examples used by AWS's and Terraform's implementations).

use credplane::secrets::ses::ses_smtp_password_v4;

#[test]
fn eu_central_1_some_secret_key() {
    assert_eq!(
        ses_smtp_password_v4("some+secret+key", "eu-central-1"),
        "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"
    );
}

#[test]
fn eu_central_1_another_secret_key() {
    assert_eq!(
        ses_smtp_password_v4("another+secret+key", "eu-central-1"),
        "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"
    );
}

#[test]
fn us_west_1_some_secret_key() {
    assert_eq!(
        ses_smtp_password_v4("some+secret+key", "us-west-1"),
        "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"
    );
}

#[test]
fn us_west_1_another_secret_key() {
    assert_eq!(
        ses_smtp_password_v4("another+secret+key", "us-west-1"),
        "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF"
    );
}
