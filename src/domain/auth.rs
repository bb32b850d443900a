//! Who is asking: roles, the actor of a request, passwords and secrets.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{RuleResult, RuleViolation};

string_enum! {
    /// What a user may do (DOMAIN.md section 1).
    Role {
        /// Manages users, organizations and parameters; sees no personal data.
        Admin = "ADMIN",
        /// Facilitateur: runs everything within their territories.
        Facilitator = "FACILITATOR",
        /// Maître d'ouvrage: its own markets and operations, aggregates only.
        Buyer = "BUYER",
        /// Entreprise titulaire: its own lots, and the hours of the people it employs or hosts.
        Company = "COMPANY",
        /// Structure d'insertion: its own employees, chantiers and conventions.
        Siae = "SIAE",
        /// Financeur: the reports of what it funds.
        Funder = "FUNDER",
    }
}

impl Role {
    /// Roles whose users belong to an organization of a given kind.
    pub fn needs_organization(self) -> bool {
        !matches!(self, Role::Admin | Role::Facilitator)
    }
}

/// The caller of a service: a user (by session or API key) or the system itself (CLI, demo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    /// `None` for the system, which may do anything (never reachable over HTTP).
    pub role: Option<Role>,
    pub organization_id: Option<Uuid>,
    pub territories: BTreeSet<Uuid>,
    /// E-mail, or `system`: what the audit trail shows.
    pub label: String,
    /// The session or API key this request came with (what `logout` revokes).
    pub credential_id: Option<Uuid>,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            user_id: None,
            role: None,
            organization_id: None,
            territories: BTreeSet::new(),
            label: "system".into(),
            credential_id: None,
        }
    }

    pub fn is_system(&self) -> bool {
        self.role.is_none()
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == Some(role)
    }

    /// The system, or one of `roles`.
    pub fn any_of(&self, roles: &[Role]) -> bool {
        self.role.is_none_or(|r| roles.contains(&r))
    }

    /// A facilitator of this territory (or the system).
    pub fn facilitates(&self, territory: Uuid) -> bool {
        self.is_system() || (self.is(Role::Facilitator) && self.territories.contains(&territory))
    }

    /// Belongs to this organization.
    pub fn of_org(&self, org: Option<Uuid>) -> bool {
        org.is_some() && self.organization_id == org
    }
}

/// At least 12 characters: long passphrases beat complex short ones.
pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn check_password(password: &str) -> RuleResult {
    check_password_as("password", password)
}

/// The password policy, naming the input `field` that carries the password.
pub fn check_password_as(field: &'static str, password: &str) -> RuleResult {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(RuleViolation::new(
            field,
            format!("{field} : {MIN_PASSWORD_CHARS} caractères au moins (too short)"),
        ));
    }
    if password.len() > 1024 {
        return Err(RuleViolation::new(
            field,
            format!("{field} : 1 024 octets au plus (too long)"),
        ));
    }
    Ok(())
}

/// Longest life of an API key: a key nobody renews does not outlive its use by more than a year.
pub const API_KEY_MAX_DAYS: i64 = 365;

/// An API key's end: strictly after `now`, at most `API_KEY_MAX_DAYS` later.
pub fn check_key_expiry(now: DateTime<Utc>, expires_at: DateTime<Utc>) -> RuleResult {
    if expires_at <= now {
        return Err(RuleViolation::breach(
            "expiresAt",
            "API_KEY_EXPIRY_FUTURE",
            format!("après {}", now.to_rfc3339()),
            expires_at.to_rfc3339(),
            "la clé expirerait avant d'avoir servi (must be in the future)",
        ));
    }
    let latest = now + Duration::days(API_KEY_MAX_DAYS);
    if expires_at > latest {
        return Err(RuleViolation::breach(
            "expiresAt",
            "API_KEY_MAX_DAYS",
            format!("{API_KEY_MAX_DAYS} jours, soit {}", latest.to_rfc3339()),
            expires_at.to_rfc3339(),
            "une clé d'API vit un an au plus (at most a year)",
        ));
    }
    Ok(())
}

/// SHA-256 of a bearer secret, hex: what the store keeps. Secrets are 256 random bits, so a
/// plain hash (no salt, no stretching) is enough and lets the store look them up.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two hashes without leaking where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

string_enum! {
    /// What a mailed single-use link is for.
    TokenPurpose {
        /// A forgotten password: valid one hour.
        Reset = "RESET",
        /// A new account setting its first password: valid seven days.
        Invite = "INVITE",
    }
}

impl TokenPurpose {
    /// How long a link stays valid after it was made.
    pub fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::Reset => Duration::hours(RESET_LINK_HOURS),
            TokenPurpose::Invite => Duration::days(INVITATION_LINK_DAYS),
        }
    }
}

pub const RESET_LINK_HOURS: i64 = 1;
pub const INVITATION_LINK_DAYS: i64 = 7;

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Used,
    Expired,
}

/// A link works strictly before `expires_at`, once.
pub fn check_link(
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
) -> Result<(), LinkRefusal> {
    if used_at.is_some() {
        return Err(LinkRefusal::Used);
    }
    if now >= expires_at {
        return Err(LinkRefusal::Expired);
    }
    Ok(())
}

/// The stored password of an account that has none yet (invited, link not used): no PHC
/// string, so no password ever matches it.
pub const NO_PASSWORD: &str = "!invitation";

/// Whether a stored hash is a real password (not [`NO_PASSWORD`]).
pub fn has_password(hash: &str) -> bool {
    hash.starts_with('$')
}

/// Which territories a role takes: a facilitator at least one, the others none.
pub fn check_role_territories(role: Role, territories: usize) -> RuleResult {
    match role {
        Role::Facilitator if territories == 0 => Err(RuleViolation::new(
            "territoryIds",
            "territoryIds : un facilitateur travaille sur au moins un territoire",
        )),
        Role::Facilitator => Ok(()),
        _ if territories > 0 => Err(RuleViolation::new(
            "territoryIds",
            "territoryIds : seulement pour un facilitateur",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_length_boundary() {
        assert!(check_password(&"a".repeat(11)).is_err());
        assert!(check_password(&"a".repeat(12)).is_ok());
        assert!(
            check_password(&"é".repeat(12)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn a_link_works_strictly_before_its_end_and_once() {
        let made = Utc::now();
        for purpose in [TokenPurpose::Reset, TokenPurpose::Invite] {
            let end = made + purpose.lifetime();
            let second = Duration::seconds(1);
            assert_eq!(check_link(end - second, end, None), Ok(()));
            assert_eq!(check_link(end, end, None), Err(LinkRefusal::Expired));
            assert_eq!(
                check_link(end + second, end, None),
                Err(LinkRefusal::Expired)
            );
            assert_eq!(check_link(made, end, Some(made)), Err(LinkRefusal::Used));
        }
        assert_eq!(TokenPurpose::Reset.lifetime(), Duration::hours(1));
        assert_eq!(TokenPurpose::Invite.lifetime(), Duration::days(7));
    }

    #[test]
    fn an_invited_account_has_no_password() {
        assert!(!has_password(NO_PASSWORD));
        assert!(has_password("$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$aGFzaA"));
    }

    #[test]
    fn territories_follow_the_role() {
        assert!(check_role_territories(Role::Facilitator, 0).is_err());
        assert!(check_role_territories(Role::Facilitator, 1).is_ok());
        assert!(check_role_territories(Role::Company, 1).is_err());
        assert!(check_role_territories(Role::Admin, 0).is_ok());
        let e = check_password_as("newPassword", "short").unwrap_err();
        assert_eq!(e.field, "newPassword");
    }

    #[test]
    fn hashes() {
        let h = secret_hash("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same_hash(&h, &secret_hash("abc")));
        assert!(!same_hash(&h, &secret_hash("abd")));
    }

    #[test]
    fn scopes() {
        let t = Uuid::now_v7();
        let mut f = Actor::system();
        assert!(f.facilitates(t));
        f.role = Some(Role::Facilitator);
        assert!(!f.facilitates(t));
        f.territories.insert(t);
        assert!(f.facilitates(t));
        f.role = Some(Role::Buyer);
        assert!(!f.facilitates(t));
        assert!(!f.of_org(None));
    }
}
