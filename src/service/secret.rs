//! Keys only this deployment knows. The trace key signs the tokens of report figures
//! (`traceEntries(trace:)`): configured (TRACE_SECRET), or else drawn at first start and kept
//! in the store so that every instance on one database signs and checks alike.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use entity::server_secret;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of a key drawn by the server (the HMAC-SHA256 block size is larger, its output 32).
pub const DRAWN_KEY_BYTES: usize = 32;

/// The row of `server_secret` that holds the drawn trace key.
const TRACE_KEY_NAME: &str = "trace";

/// The HMAC-SHA256 state keyed once; each signature starts from a copy of it.
#[derive(Clone)]
pub struct TraceKey(Arc<HmacSha256>);

impl std::fmt::Debug for TraceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceKey(..)")
    }
}

impl TraceKey {
    pub fn from_bytes(key: &[u8]) -> Self {
        // HMAC takes keys of any length; this cannot fail.
        Self(Arc::new(
            HmacSha256::new_from_slice(key).expect("HMAC accepts any key length"),
        ))
    }

    /// The configured key if there is one; otherwise the store's, drawn now if it has none.
    /// Instances starting together each try to insert theirs and keep the row that won.
    pub async fn load<C: ConnectionTrait>(
        conn: &C,
        configured: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        if let Some(key) = configured {
            return Ok(Self::from_bytes(key));
        }
        let mut drawn = [0u8; DRAWN_KEY_BYTES];
        getrandom::fill(&mut drawn)
            .map_err(|e| DbErr::Custom(format!("no randomness for the trace key: {e}")))?;
        server_secret::Entity::insert(server_secret::ActiveModel {
            name: Set(TRACE_KEY_NAME.into()),
            value: Set(STANDARD.encode(drawn)),
            created_at: Set(now),
        })
        .on_conflict_do_nothing_on([server_secret::Column::Name])
        .exec_without_returning(conn)
        .await?;
        let kept = server_secret::Entity::find_by_id(TRACE_KEY_NAME.to_string())
            .one(conn)
            .await?
            .ok_or_else(|| DbErr::Custom("server_secret: trace key missing after insert".into()))?;
        let bytes = STANDARD
            .decode(&kept.value)
            .map_err(|e| DbErr::Custom(format!("server_secret: trace key unreadable: {e}")))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// HMAC-SHA256 of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut mac = (*self.0).clone();
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `tag` is the signature of `message`, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = (*self.0).clone();
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_checks_only_its_message_under_its_key() {
        let key = TraceKey::from_bytes(b"k");
        let tag = key.sign(b"message");
        assert_eq!(tag.len(), 32);
        assert!(key.verify(b"message", &tag));
        assert!(!key.verify(b"messagf", &tag));
        assert!(!TraceKey::from_bytes(b"l").verify(b"message", &tag));
        let mut flipped = tag.clone();
        flipped[31] ^= 1;
        assert!(!key.verify(b"message", &flipped));
        assert!(!key.verify(b"message", &tag[..31]));
    }
}
