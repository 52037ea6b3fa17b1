//! Roles and the scopes each role's tokens carry.
//!
//! | role | who | default scopes | permissions (see [`crate::orders::role_policy`]) |
//! |---|---|---|---|
//! | `user` | every registered account, and `demo@example.com` | `read:orders` | none |
//! | `admin` | the seeded admin account (subject [`ADMIN_SUBJECT`]), which exists only with both `AUTH_DEMO_ADMIN_EMAIL` and `AUTH_DEMO_ADMIN_PASSWORD` | `read:orders write:orders` | `orders:refund` |
//!
//! The role follows the account's **subject**, never an email: nobody can become `admin` by
//! registering an address, and an address nobody has verified grants nothing. The role is
//! decided every time a token is issued (login and refresh), so removing
//! `AUTH_DEMO_ADMIN_PASSWORD` ends the admin's sessions at their next refresh (the account is
//! gone).

use crate::users::ADMIN_SUBJECT;

/// A role the demo grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Everyone.
    User,
    /// The seeded admin account (`AUTH_DEMO_ADMIN_EMAIL` + `AUTH_DEMO_ADMIN_PASSWORD`).
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

/// Decides roles: `admin` for one subject (the seeded admin account's), `user` for everyone
/// else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    admin_subject: Option<String>,
}

impl Roles {
    /// `admin` for the account with subject `admin_subject`, if any.
    #[must_use]
    pub fn new(admin_subject: Option<&str>) -> Self {
        Self {
            admin_subject: admin_subject.filter(|s| !s.is_empty()).map(str::to_owned),
        }
    }

    /// `admin` for the seeded admin account ([`ADMIN_SUBJECT`]).
    #[must_use]
    pub fn with_seeded_admin() -> Self {
        Self::new(Some(ADMIN_SUBJECT))
    }

    /// The admin's subject.
    #[must_use]
    pub fn admin_subject(&self) -> Option<&str> {
        self.admin_subject.as_deref()
    }

    /// The role of the account with this subject.
    #[must_use]
    pub fn role_of(&self, subject: &str) -> Role {
        if self.admin_subject.as_deref() == Some(subject) {
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
    fn only_the_admin_subject_is_admin_never_an_email() {
        let roles = Roles::with_seeded_admin();
        assert_eq!(roles.role_of(ADMIN_SUBJECT), Role::Admin);
        assert_eq!(roles.role_of("demo-user"), Role::User);
        assert_eq!(roles.role_of("boss@example.com"), Role::User);
        assert_eq!(Roles::default().role_of(ADMIN_SUBJECT), Role::User);
        assert_eq!(Roles::new(Some("")).admin_subject(), None);
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
