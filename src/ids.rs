//! Opaque global IDs (`base64url("Market:<uuid>")`) and pagination cursors.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The object types that have a global ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Territory,
    Organization,
    Operation,
    Market,
    Lot,
    Participant,
    Placement,
    HourEntry,
    StatusChange,
    User,
    ApiKey,
    AuditEvent,
    ParameterChange,
    Chantier,
    Supervisor,
    Budget,
    FundingLine,
    Eligibility,
    PassIae,
    Immersion,
    Convention,
    Commission,
    Decision,
    Deadline,
    ConventionDocument,
    Reminder,
    HourImport,
    CommissionMember,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Territory => "Territory",
            Kind::Organization => "Organization",
            Kind::Operation => "Operation",
            Kind::Market => "Market",
            Kind::Lot => "Lot",
            Kind::Participant => "Participant",
            Kind::Placement => "Placement",
            Kind::HourEntry => "HourEntry",
            Kind::StatusChange => "StatusChange",
            Kind::User => "User",
            Kind::ApiKey => "ApiKey",
            Kind::AuditEvent => "AuditEvent",
            Kind::ParameterChange => "ParameterChange",
            Kind::Chantier => "Chantier",
            Kind::Supervisor => "Supervisor",
            Kind::Budget => "Budget",
            Kind::FundingLine => "FundingLine",
            Kind::Eligibility => "Eligibility",
            Kind::PassIae => "PassIae",
            Kind::Immersion => "Immersion",
            Kind::Convention => "Convention",
            Kind::Commission => "Commission",
            Kind::Decision => "Decision",
            Kind::Deadline => "Deadline",
            Kind::ConventionDocument => "ConventionDocument",
            Kind::Reminder => "Reminder",
            Kind::HourImport => "HourImport",
            Kind::CommissionMember => "CommissionMember",
        }
    }

    const ALL: [Kind; 28] = [
        Kind::Territory,
        Kind::Organization,
        Kind::Operation,
        Kind::Market,
        Kind::Lot,
        Kind::Participant,
        Kind::Placement,
        Kind::HourEntry,
        Kind::StatusChange,
        Kind::User,
        Kind::ApiKey,
        Kind::AuditEvent,
        Kind::ParameterChange,
        Kind::Chantier,
        Kind::Supervisor,
        Kind::Budget,
        Kind::FundingLine,
        Kind::Eligibility,
        Kind::PassIae,
        Kind::Immersion,
        Kind::Convention,
        Kind::Commission,
        Kind::Decision,
        Kind::Deadline,
        Kind::ConventionDocument,
        Kind::Reminder,
        Kind::HourImport,
        Kind::CommissionMember,
    ];
}

pub fn encode(kind: Kind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

impl Kind {
    /// The kind named `name` (as stored in the audit trail and history).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Reads any global ID; `None` when it is not one of ours.
pub fn parse(id: &str) -> Option<(Kind, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (name, uuid) = text.split_once(':')?;
    let kind = Kind::from_name(name)?;
    Some((kind, Uuid::parse_str(uuid).ok()?))
}

/// Reads a global ID that must be of `kind`, naming `field` when it is not.
pub fn decode(kind: Kind, id: &ID, field: &str) -> AppResult<Uuid> {
    match parse(id) {
        Some((k, uuid)) if k == kind => Ok(uuid),
        Some((k, _)) => Err(AppError::bad_input(
            field,
            format!(
                "{field} : attendu l'identifiant d'un(e) {}, reçu celui d'un(e) {} (wrong ID type)",
                kind.name(),
                k.name()
            ),
        )),
        None => Err(AppError::bad_input(
            field,
            format!(
                "{field} : identifiant illisible « {} » (malformed ID)",
                id.as_str()
            ),
        )),
    }
}

pub fn decode_opt(kind: Kind, id: Option<&ID>, field: &str) -> AppResult<Option<Uuid>> {
    id.map(|id| decode(kind, id, field)).transpose()
}

pub fn cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn parse_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| AppError::bad_input("after", "after : curseur illisible (malformed cursor)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let u = Uuid::now_v7();
        let id = encode(Kind::Market, u);
        assert_eq!(decode(Kind::Market, &id, "marketId").unwrap(), u);
        let err = decode(Kind::Lot, &id, "lotId").unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(decode(Kind::Market, &ID("nope".into()), "marketId").is_err());
        assert_eq!(parse_cursor(&cursor(u)).unwrap(), u);
    }
}
