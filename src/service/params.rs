//! Parameters: national defaults overridden per territory, operation or market, each change a
//! new dated row (DOMAIN.md section 6). Rules read the set in force on the day they judge.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;
use entity::{market, operation, parameter_value, territory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::page::{self, Page, PageArgs};
use super::{Ctx, audit, get};
use crate::domain::auth::{Actor, Role};
use crate::domain::params::{self, Override, ParamKey, ParamLevel, ParamSet, ParamValue};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// Where a parameter set applies: a territory, and maybe an operation and a market in it.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub territory: Uuid,
    pub operation: Option<Uuid>,
    pub market: Option<Uuid>,
}

impl Place {
    pub fn territory(territory: Uuid) -> Self {
        Place {
            territory,
            operation: None,
            market: None,
        }
    }

    pub fn of_market(m: &market::Model) -> Self {
        Place {
            territory: m.territory_id,
            operation: m.operation_id,
            market: Some(m.id),
        }
    }
}

/// The parameters in force on `on` at `place`: one query.
pub async fn set_at<C: ConnectionTrait>(
    conn: &C,
    place: Place,
    on: NaiveDate,
) -> AppResult<ParamSet> {
    Ok(sets_at(conn, &[(place, on)]).await?.remove(0))
}

impl Place {
    fn scopes(&self) -> impl Iterator<Item = Uuid> {
        [Some(self.territory), self.operation, self.market]
            .into_iter()
            .flatten()
    }
}

/// The parameters in force at each place on its date, in the same order: one query for all.
pub async fn sets_at<C: ConnectionTrait>(
    conn: &C,
    places: &[(Place, NaiveDate)],
) -> AppResult<Vec<ParamSet>> {
    let mut scopes: Vec<Uuid> = places.iter().flat_map(|(p, _)| p.scopes()).collect();
    scopes.sort();
    scopes.dedup();
    let Some(last) = places.iter().map(|(_, on)| *on).max() else {
        return Ok(Vec::new());
    };
    let rows = parameter_value::Entity::find()
        .filter(parameter_value::Column::ScopeId.is_in(scopes))
        .filter(parameter_value::Column::EffectiveFrom.lte(last))
        .order_by_asc(parameter_value::Column::Id)
        .all(conn)
        .await?;
    Ok(places
        .iter()
        .map(|(place, on)| {
            let mine: Vec<Override> = rows
                .iter()
                .filter(|r| place.scopes().any(|s| s == r.scope_id))
                .filter_map(to_override)
                .collect();
            ParamSet::resolve(*on, &mine)
        })
        .collect())
}

fn to_override(r: &parameter_value::Model) -> Option<Override> {
    let key = ParamKey::parse(&r.key)?;
    let value = match &r.value {
        Some(v) => Some(ParamValue::from_stored(params::def(key).unit, v)?),
        None => None,
    };
    Some(Override {
        key,
        level: ParamLevel::parse(&r.level)?,
        value,
        effective_from: r.effective_from,
    })
}

/// The stored value as people write it (for history and audit).
pub fn display(r: &parameter_value::Model) -> Option<String> {
    let key = ParamKey::parse(&r.key)?;
    let def = params::def(key);
    r.value
        .as_deref()
        .and_then(|v| ParamValue::from_stored(def.unit, v))
        .map(|v| params::format(&def, &v))
}

#[derive(Debug, InputObject)]
pub struct SetParameterInput {
    pub key: ParamKey,
    /// Exactly one of territoryId, operationId, marketId: where the value applies.
    pub territory_id: Option<ID>,
    pub operation_id: Option<ID>,
    pub market_id: Option<ID>,
    /// As people write it in the parameter's unit ("30" %, "15000" €, "20" h, "30,7" days);
    /// null puts the level above back in force.
    pub value: Option<String>,
    /// Default: today in the territory. Never in the past: a change never rewrites what was.
    pub effective_from: Option<NaiveDate>,
    pub reason: String,
}

/// How many parameter values are set at `level` for the object `scope` (what its delete must
/// not leave behind).
pub async fn values_of<C: ConnectionTrait>(
    conn: &C,
    level: ParamLevel,
    scope: Uuid,
) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(entity::parameter_value::Entity::find()
        .filter(entity::parameter_value::Column::Level.eq(level.as_str()))
        .filter(entity::parameter_value::Column::ScopeId.eq(scope))
        .count(conn)
        .await?)
}

/// Resolves where a parameter input applies; out of scope is NOT_FOUND.
pub async fn place_of<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    territory_id: Option<&ID>,
    operation_id: Option<&ID>,
    market_id: Option<&ID>,
) -> AppResult<(ParamLevel, Uuid, Place)> {
    super::exactly_one(
        &["territoryId", "operationId", "marketId"],
        &[
            territory_id.is_some(),
            operation_id.is_some(),
            market_id.is_some(),
        ],
    )?;
    let (level, scope, place) = if let Some(id) = market_id {
        let id = ids::decode(Kind::Market, id, "marketId")?;
        let m = get::<market::Entity, _>(conn, id, "marché").await?;
        (ParamLevel::Market, id, Place::of_market(&m))
    } else if let Some(id) = operation_id {
        let id = ids::decode(Kind::Operation, id, "operationId")?;
        let o = get::<operation::Entity, _>(conn, id, "opération").await?;
        (
            ParamLevel::Operation,
            id,
            Place {
                territory: o.territory_id,
                operation: Some(id),
                market: None,
            },
        )
    } else {
        let id = ids::decode(
            Kind::Territory,
            territory_id.expect("one chosen"),
            "territoryId",
        )?;
        get::<territory::Entity, _>(conn, id, "territoire").await?;
        (ParamLevel::Territory, id, Place::territory(id))
    };
    if !(actor.any_of(&[Role::Admin]) || actor.facilitates(place.territory)) {
        return Err(AppError::NotFound("territoire".into()));
    }
    Ok((level, scope, place))
}

pub async fn set(
    ctx: &Ctx,
    actor: &Actor,
    input: SetParameterInput,
) -> AppResult<parameter_value::Model> {
    if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    let def = params::def(input.key);
    let reason = text::required("reason", &input.reason)?;
    let value = input
        .value
        .as_deref()
        .map(|v| params::parse(&def, v))
        .transpose()?;
    let txn = ctx.db.begin_write().await?;
    let (level, scope, place) = place_of(
        &txn.txn,
        actor,
        input.territory_id.as_ref(),
        input.operation_id.as_ref(),
        input.market_id.as_ref(),
    )
    .await?;
    if level != ParamLevel::Territory && !def.per_market {
        return Err(AppError::bad_input(
            "key",
            format!(
                "key : {} se règle par territoire, pas par opération ou marché (territory only)",
                input.key
            ),
        ));
    }
    let today = super::territory::today(ctx, &txn.txn, place.territory).await?;
    let from = input.effective_from.unwrap_or(today);
    if from < today {
        return Err(AppError::bad_input(
            "effectiveFrom",
            format!(
                "effectiveFrom : {from} est passé ; un paramètre ne réécrit pas le passé (from {today} on)"
            ),
        ));
    }
    let row = parameter_value::ActiveModel {
        id: Set(ctx.clock.new_id()),
        key: Set(input.key.as_str().to_string()),
        level: Set(level.as_str().to_string()),
        scope_id: Set(scope),
        territory_id: Set(place.territory),
        value: Set(value.map(|v| v.to_stored())),
        effective_from: Set(from),
        reason: Set(Some(reason)),
        created_at: Set(ctx.clock.now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn.txn)
    .await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "setParameter",
        Kind::ParameterChange,
        row.id,
        Some(place.territory),
        None,
        Some(&audit::json(&row)),
    )
    .await?;
    // Offsets, recipients and dates of the rules may have changed: the scheduler reflows the
    // territory's deadlines and plans its reminders again, out of this request (service::reflow).
    super::reflow::mark(&txn.txn, ctx, place.territory).await?;
    txn.commit().await?;
    Ok(row)
}

/// Parameters in force on a day, for a place the caller may see.
pub async fn in_force(
    ctx: &Ctx,
    actor: &Actor,
    territory_id: Option<&ID>,
    operation_id: Option<&ID>,
    market_id: Option<&ID>,
    on: Option<NaiveDate>,
) -> AppResult<ParamSet> {
    let conn = &ctx.db.conn;
    let (_, _, place) = place_of(conn, actor, territory_id, operation_id, market_id).await?;
    let on = match on {
        Some(d) => d,
        None => super::territory::today(ctx, conn, place.territory).await?,
    };
    set_at(conn, place, on).await
}

/// Changes made in a territory (at every level), oldest first.
pub async fn changes(
    ctx: &Ctx,
    actor: &Actor,
    territory_id: &ID,
    key: Option<ParamKey>,
    args: PageArgs,
) -> AppResult<Page<parameter_value::Model>> {
    let (_, territory, _) = place_of(&ctx.db.conn, actor, Some(territory_id), None, None).await?;
    let mut select =
        parameter_value::Entity::find().filter(parameter_value::Column::TerritoryId.eq(territory));
    if let Some(k) = key {
        select = select.filter(parameter_value::Column::Key.eq(k.as_str()));
    }
    page::fetch(&ctx.db.conn, select, parameter_value::Column::Id, &args).await
}
