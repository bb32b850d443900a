//! The one error type of Passerelle, mapped once to GraphQL errors with `extensions.code`.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

use crate::domain::{Breach, RuleViolation};

#[derive(Debug)]
pub enum AppError {
    /// Input that breaks a rule; names the field.
    BadInput {
        field: String,
        message: String,
        /// Rule, limit and value, when a numeric rule was broken.
        breach: Option<Breach>,
    },
    NotFound(String),
    /// The request is valid but clashes with the current state (duplicate, wrong status).
    Conflict(String),
    /// An edit named a version another change has replaced: who made it, when, and the
    /// version now current (code CONFLICT, field `version`).
    Stale {
        message: String,
        changed_by: String,
        changed_at: Option<chrono::DateTime<chrono::Utc>>,
        current: i32,
    },
    Forbidden,
    /// FORBIDDEN with the reason shown, where the reason reveals nothing the caller may not
    /// know (a rule on what it may see, not whether something exists).
    ForbiddenBecause(String),
    /// No valid credential; the message says what to do, never whether an account exists.
    Unauthenticated(String),
    /// A file refused as a whole, with each bad line (up to a limit) and how many there were.
    FileRefused {
        errors: Vec<LineError>,
        total: usize,
    },
    /// The request took longer than `REQUEST_TIMEOUT`; its work was dropped (a mutation's
    /// transaction rolls back unless it had already committed).
    Timeout,
    /// The server is at capacity for this kind of work (password hashing); retry shortly.
    Busy(String),
    /// Something broke on our side; the detail is logged, never shown.
    Internal(String),
}

/// One refused line of an uploaded file: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineError {
    /// 1 is the header line.
    pub line: usize,
    pub column: String,
    pub message: String,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
            breach: None,
        }
    }

    /// The message shown to people: what is wrong and, where it helps, what to do.
    /// (No `Display`: a blanket conversion would then drop `extensions.code`.)
    pub fn message(&self) -> String {
        match self {
            AppError::BadInput { message, .. }
            | AppError::Stale { message, .. }
            | AppError::Conflict(message)
            | AppError::ForbiddenBecause(message) => message.clone(),
            AppError::NotFound(what) => format!("{what} introuvable (not found)"),
            AppError::Forbidden => "accès refusé (forbidden)".into(),
            AppError::Unauthenticated(message) | AppError::Busy(message) => message.clone(),
            AppError::FileRefused { errors, total } => format!(
                "fichier refusé, rien n'a été enregistré : {total} erreur(s), dont la première ligne {} colonne « {} » : {} (file refused)",
                errors.first().map_or(0, |e| e.line),
                errors.first().map_or("", |e| e.column.as_str()),
                errors.first().map_or("", |e| e.message.as_str()),
            ),
            AppError::Timeout => {
                "délai de traitement dépassé, requête abandonnée (request timed out)".into()
            }
            AppError::Internal(_) => "erreur interne (internal error)".into(),
        }
    }

    /// Sign-in required.
    pub fn unauthenticated() -> Self {
        AppError::Unauthenticated(
            "authentification requise : envoyer « Authorization: Bearer <jeton> » (sign in first)"
                .into(),
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadInput { .. } => "BAD_USER_INPUT",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Conflict(_) | AppError::Stale { .. } => "CONFLICT",
            AppError::Forbidden | AppError::ForbiddenBecause(_) => "FORBIDDEN",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::FileRefused { .. } => "FILE_REFUSED",
            AppError::Timeout => "TIMEOUT",
            AppError::Busy(_) => "BUSY",
            AppError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<RuleViolation> for AppError {
    fn from(v: RuleViolation) -> Self {
        AppError::BadInput {
            field: v.field.to_string(),
            message: v.message,
            breach: v.breach,
        }
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = e.sql_err() {
            tracing::debug!(%detail, "unique constraint");
            return AppError::Conflict(
                "cet enregistrement existe déjà (already exists)".to_string(),
            );
        }
        if let Some(SqlErr::ForeignKeyConstraintViolation(detail)) = e.sql_err() {
            // A row another request linked to (or removed) meanwhile: say so, not "internal".
            tracing::debug!(%detail, "foreign key");
            return AppError::Conflict(
                "un autre enregistrement en dépend ou vient de changer : relire puis réessayer (still referenced, or changed meanwhile)"
                    .to_string(),
            );
        }
        AppError::Internal(e.to_string())
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        if let AppError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let AppError::BadInput { field, breach, .. } = self {
                ext.set("field", field.as_str());
                if let Some(b) = breach {
                    ext.set("rule", b.rule);
                    ext.set("limit", b.limit.as_str());
                    ext.set("value", b.value.as_str());
                }
            }
            if let AppError::Stale {
                changed_by,
                changed_at,
                current,
                ..
            } = self
            {
                ext.set("field", "version");
                ext.set("changedBy", changed_by.as_str());
                if let Some(at) = changed_at {
                    ext.set("changedAt", at.to_rfc3339());
                }
                ext.set("currentVersion", *current);
            }
            if let AppError::FileRefused { errors, total } = self {
                ext.set("field", "file");
                ext.set("errorCount", *total as u64);
                let list: Vec<async_graphql::Value> = errors
                    .iter()
                    .map(|e| async_graphql::to_value(e).unwrap_or(async_graphql::Value::Null))
                    .collect();
                ext.set("errors", async_graphql::Value::List(list));
            }
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        e.extend()
    }
}
