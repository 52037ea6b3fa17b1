//! Roles and the scopes each role's tokens carry.
//!
//! | role | who | default scopes | permissions (see [`crate::orders::role_policy`]) |
//! |---|---|---|---|
//! | `user` | everyone who logs in, except the admin | `read:orders` | none |
//! | `admin` | the account whose email is `AUTH_DEMO_ADMIN_EMAIL` | `read:orders write:orders` | `orders:refund` |
//!
//! The role is decided from the email every time a token is issued (login and refresh), so
//! changing `AUTH_DEMO_ADMIN_EMAIL` takes effect at the next refresh.

use crate::users::normalize_email;

/// A role the demo grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Everyone.
    User,
    /// The account named by `AUTH_DEMO_ADMIN_EMAIL`.
    Admin,
}

impl Role {
    /// The role's name, as tokens carry it in `roles`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    /// The scopes a token for this role carries.
    #[must_use]
    pub const fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Self::User => &["read:orders"],
            Self::Admin => &["read:orders", "write:orders"],
        }
    }
}

/// Decides roles: `admin` for one configured email, `user` for everyone else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    admin_email: Option<String>,
}

impl Roles {
    /// `admin` for `admin_email` (normalized here), if any.
    #[must_use]
    pub fn new(admin_email: Option<&str>) -> Self {
        Self {
            admin_email: admin_email.map(normalize_email).filter(|e| !e.is_empty()),
        }
    }

    /// The admin's normalized email.
    #[must_use]
    pub fn admin_email(&self) -> Option<&str> {
        self.admin_email.as_deref()
    }

    /// The role of the account with this normalized email.
    #[must_use]
    pub fn role_of(&self, email: &str) -> Role {
        if self.admin_email.as_deref() == Some(email) {
            Role::Admin
        } else {
            Role::User
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_email_is_admin() {
        let roles = Roles::new(Some(" Boss@Example.com "));
        assert_eq!(roles.role_of("boss@example.com"), Role::Admin);
        assert_eq!(roles.role_of("demo@example.com"), Role::User);
        assert_eq!(Roles::default().role_of("boss@example.com"), Role::User);
        assert_eq!(Roles::new(Some("  ")).admin_email(), None);
    }

    #[test]
    fn roles_map_to_the_documented_scopes() {
        assert_eq!(Role::User.default_scopes(), ["read:orders"]);
        assert_eq!(
            Role::Admin.default_scopes(),
            ["read:orders", "write:orders"]
        );
        assert_eq!(Role::Admin.as_str(), "admin");
    }
}
