//! The workbook link of a person's file: signed with the server's key for one person, one caller
//! and an expiry, so that a link copied into a mail, a log or another account's hands opens
//! nothing, and an old one stops working.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::FileDownload;
use crate::domain::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::Ctx;

/// How long a link works after `participantFile` gave it.
pub const LIFETIME: Duration = Duration::minutes(15);

/// Signed before the rest, so that a signature made for anything else (a trace token) never
/// passes here.
const CONTEXT: &[u8] = b"passerelle participant file v1\n";

fn message(person: Uuid, caller: Option<Uuid>, expires: i64) -> Vec<u8> {
    let caller = caller.map_or_else(|| "-".to_string(), |u| u.to_string());
    [CONTEXT, format!("{person}\n{caller}\n{expires}").as_bytes()].concat()
}

/// The link for `actor` to download `person`'s file until `now` + [`LIFETIME`].
pub fn issue(ctx: &Ctx, actor: &Actor, person: Uuid, id: &ID, now: DateTime<Utc>) -> FileDownload {
    let expires_at = now + LIFETIME;
    let expires = expires_at.timestamp();
    let tag = ctx.trace_key.sign(&message(person, actor.user_id, expires));
    FileDownload {
        xlsx: format!(
            "/reports/participant/{}.xlsx?expires={expires}&signature={}",
            id.as_str(),
            URL_SAFE_NO_PAD.encode(tag)
        ),
        expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(expires_at),
    }
}

/// Whether the link is this server's, for this person and this caller, and not expired.
pub fn check(
    ctx: &Ctx,
    actor: &Actor,
    person: Uuid,
    expires: Option<&str>,
    signature: Option<&str>,
) -> AppResult<()> {
    let invalid = || {
        AppError::ForbiddenBecause(
            "lien de téléchargement invalide ou délivré à un autre compte : le redemander par participantFile (invalid link, or another caller's)".into(),
        )
    };
    let (Some(expires), Some(signature)) = (expires, signature) else {
        return Err(invalid());
    };
    let expires: i64 = expires.parse().map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
    if !ctx
        .trace_key
        .verify(&message(person, actor.user_id, expires), &tag)
    {
        return Err(invalid());
    }
    if ctx.clock.now().timestamp() > expires {
        return Err(AppError::ForbiddenBecause(format!(
            "lien de téléchargement expiré (valable {} minutes) : le redemander par participantFile (link expired)",
            LIFETIME.num_minutes()
        )));
    }
    Ok(())
}
