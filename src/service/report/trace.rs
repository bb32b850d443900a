//! Traceability: the ledger entries behind any figure of any report, as they stood at the
//! report's date. A figure hands out its recipe as a token signed with the server's trace key,
//! so a token names only what some report showed; using it re-checks that the caller still
//! sees the report's subject, and a recipe that picks people by who they are (a public, an
//! age band, an exit...) opens only for those who may identify them.

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::{chantier, hour_entry, hour_entry_review, lot, market, operation, placement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::slice::{self, Subject, Trace};
use crate::domain::HourStatus;
use crate::domain::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Page, PageArgs};
use crate::service::params::Place;
use crate::service::secret::TraceKey;
use crate::service::stats;
use crate::service::{Ctx, scope};

/// Signed before the recipe, so that a signature made for anything else never passes here.
const TOKEN_CONTEXT: &[u8] = b"passerelle trace v1\n";

/// Longer tokens are refused before any decoding (real ones are a few hundred bytes).
const MAX_TOKEN_BYTES: usize = 4096;

/// The token of a figure: its recipe as base64url JSON, a dot, and the HMAC-SHA256 of
/// that text under the trace key.
pub fn token(key: &TraceKey, trace: &Trace) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(trace).expect("trace serializes"));
    let tag = key.sign(&[TOKEN_CONTEXT, payload.as_bytes()].concat());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The recipe of a token this server signed; anything else (garbage, a byte changed, a
/// recipe rewritten to another subject or period) is the same BAD_USER_INPUT on `field`.
pub fn open(key: &TraceKey, field: &'static str, token: &str) -> AppResult<Trace> {
    let refused = || {
        AppError::bad_input(
            field,
            format!(
                "{field} : jeton de traçabilité illisible ou altéré ; reprendre celui du rapport (unreadable or tampered trace token)"
            ),
        )
    };
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refused());
    }
    let (payload, tag) = token.split_once('.').ok_or_else(refused)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
    if !key.verify(&[TOKEN_CONTEXT, payload.as_bytes()].concat(), &tag) {
        return Err(refused());
    }
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(refused)
}

/// A figure's recipe in a report: written out as its signed token (a GraphQL `String`), signed
/// only when a client asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceToken(pub Trace);

impl OutputType for TraceToken {
    fn type_name() -> Cow<'static, str> {
        <String as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <String as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let app = ctx
            .data::<Ctx>()
            .map_err(|e| e.into_server_error(field.pos))?;
        Ok(Value::String(token(&app.trace_key, &self.0)))
    }
}

/// One entry behind a figure, with its status at the report's date.
pub struct TracedEntry {
    pub entry: hour_entry::Model,
    pub status: HourStatus,
    pub placement_reference: String,
}

/// The subject's parameter place, once the caller is known to see the report.
async fn allowed(ctx: &Ctx, actor: &Actor, subject: Subject) -> AppResult<Place> {
    let conn = &ctx.db.conn;
    let market_place = |m: market::Model| Place::of_market(&m);
    Ok(match subject {
        Subject::Market(id) => market_place(
            scope::load::<market::Entity, _>(
                conn,
                scope::markets(actor)?,
                market::Column::Id,
                id,
                "marché",
            )
            .await?,
        ),
        Subject::Lot(id) => {
            let l = scope::load::<lot::Entity, _>(
                conn,
                scope::lots(actor)?,
                lot::Column::Id,
                id,
                "lot",
            )
            .await?;
            market_place(
                crate::service::get::<market::Entity, _>(conn, l.market_id, "marché").await?,
            )
        }
        Subject::Operation(id) => {
            let o = scope::load::<operation::Entity, _>(
                conn,
                scope::operations(actor)?,
                operation::Column::Id,
                id,
                "opération",
            )
            .await?;
            Place {
                territory: o.territory_id,
                operation: Some(o.id),
                market: None,
            }
        }
        Subject::Chantier(id) => {
            let c: chantier::Model = crate::service::chantier::load(conn, actor, id, false).await?;
            crate::service::chantier::place(&c)
        }
        Subject::Territory(id) => {
            if !(actor.any_of(&[Role::Admin]) || actor.facilitates(id)) {
                return Err(AppError::NotFound("territoire".into()));
            }
            Place::territory(id)
        }
    })
}

pub async fn entries(
    ctx: &Ctx,
    actor: &Actor,
    token: &str,
    args: PageArgs,
) -> AppResult<Page<TracedEntry>> {
    let trace = open(&ctx.trace_key, "trace", token)?;
    let place = allowed(ctx, actor, trace.subject).await?;
    // Counts of a band stay in the report for whoever reads it; the entries behind them say
    // which placements are those people's, so only those who may identify them get them:
    // facilitators of the territory (participants are of the territory of their placements).
    // An employer identifies its own employees only, and a band spans every employer of the
    // subject; narrowing it to its own would give a list that no longer adds up to the figure.
    if trace.facets.singles_out_people() && !actor.facilitates(place.territory) {
        return Err(AppError::ForbiddenBecause(
            "trace : ce chiffre désigne des personnes (public, tranche, sortie...) ; seuls les facilitateurs du territoire en voient le détail, le rapport en donne le nombre (figure singles out people: count only)"
                .into(),
        ));
    }
    let conn = &ctx.db.conn;
    let markets = match trace.subject {
        Subject::Market(_) | Subject::Lot(_) => vec![place],
        Subject::Operation(o) => {
            stats::market_places(conn, market::Column::OperationId.eq(o).into()).await?
        }
        Subject::Territory(t) => {
            stats::market_places(conn, market::Column::TerritoryId.eq(t).into()).await?
        }
        Subject::Chantier(_) => Vec::new(),
    };
    let counting = stats::counting_on(conn, place, markets, trace.window.as_at).await?;
    let select = slice::entries(conn, &trace, &counting).await?;
    let page = page::fetch(conn, select, hour_entry::Column::Id, &args).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|e| e.id).collect();
    let reviews: HashMap<Uuid, hour_entry_review::Model> = hour_entry_review::Entity::find()
        .filter(hour_entry_review::Column::HourEntryId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.hour_entry_id, r))
        .collect();
    let references: HashMap<Uuid, String> = placement::Entity::find()
        .filter(placement::Column::Id.is_in(page.items.iter().map(|e| e.placement_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.reference))
        .collect();
    let items = page
        .items
        .into_iter()
        .map(|entry| {
            let status = reviews
                .get(&entry.id)
                .filter(|r| r.decided_at < trace.window.cutoff)
                .map_or(HourStatus::Declared, |r| HourStatus::from_db(&r.decision));
            TracedEntry {
                placement_reference: references
                    .get(&entry.placement_id)
                    .cloned()
                    .unwrap_or_default(),
                status,
                entry,
            }
        })
        .collect();
    Ok(Page {
        items,
        has_next: page.has_next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::report::slice::{Facets, Window};

    fn trace(modality: usize) -> Trace {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        Trace {
            subject: Subject::Market(Uuid::nil()),
            window: Window {
                as_at: day,
                cutoff: day.and_hms_opt(20, 0, 0).unwrap().and_utc(),
                from: None,
                to: None,
            },
            facets: Facets {
                modality: Some("x".repeat(modality)),
                ..Default::default()
            },
        }
    }

    #[test]
    fn tokens_open_up_to_their_length_limit() {
        let key = TraceKey::from_bytes(b"test key");
        // The longest token that opens, and the next length a token can have (base64 without
        // padding never ends a length of 4k + 1).
        // Each byte of recipe is 4/3 of a token character: start a little short of the limit.
        let first = (MAX_TOKEN_BYTES - token(&key, &trace(0)).len()) * 3 / 4 - 8;
        let tokens = || (first..first + 16).map(|n| token(&key, &trace(n)));
        let at = tokens()
            .find(|t| t.len() == MAX_TOKEN_BYTES)
            .expect("a token of the limit's length");
        let over = tokens()
            .find(|t| t.len() > MAX_TOKEN_BYTES)
            .expect("a longer token");
        assert!(open(&key, "trace", &at).is_ok());
        assert!(over.len() <= MAX_TOKEN_BYTES + 3, "{}", over.len());
        assert!(open(&key, "trace", &over).is_err());
    }

    #[test]
    fn a_token_opens_to_its_recipe_under_its_key_only() {
        let key = TraceKey::from_bytes(b"test key");
        let t = token(&key, &trace(3));
        assert_eq!(open(&key, "trace", &t).ok(), Some(trace(3)));
        assert!(open(&TraceKey::from_bytes(b"other key"), "trace", &t).is_err());
    }
}
