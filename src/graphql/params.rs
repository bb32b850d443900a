//! Parameters: what is in force where, and every change.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::parameter_value;

use super::access::actor;
use super::connection::{self, Conn, app};
use crate::domain::params::{self, ParamKey, ParamLevel, ParamSet, ParamUnit, Resolved};
use crate::ids::{self, Kind};
use crate::service;
use crate::service::params::SetParameterInput;

/// A parameter's value in force, and where it comes from.
#[derive(SimpleObject)]
pub struct ParameterInForce {
    pub key: ParamKey,
    pub label: String,
    pub unit: ParamUnit,
    /// As people write it in the unit ("30" %, "15000" €, "20" h, "30,7" days).
    pub value: String,
    pub national_default: String,
    pub level: ParamLevel,
    /// When the value took effect (null for the national default).
    pub since: Option<NaiveDate>,
    /// Whether an operation or a market may override it.
    pub per_market: bool,
}

impl ParameterInForce {
    pub fn from(r: &Resolved) -> Self {
        let def = params::def(r.key);
        ParameterInForce {
            key: r.key,
            label: def.label.to_string(),
            unit: def.unit,
            value: params::format(&def, &r.value),
            national_default: def.default.to_string(),
            level: r.level,
            since: r.since,
            per_market: def.per_market,
        }
    }

    /// The values of `keys` a figure was computed with.
    pub fn used(set: &ParamSet, keys: &[ParamKey]) -> Vec<Self> {
        keys.iter().map(|k| Self::from(set.get(*k))).collect()
    }
}

/// One change of a parameter.
pub struct ParameterChange(pub parameter_value::Model);

#[Object]
impl ParameterChange {
    async fn id(&self) -> ID {
        ids::encode(Kind::ParameterChange, self.0.id)
    }
    async fn key(&self) -> Option<ParamKey> {
        ParamKey::parse(&self.0.key)
    }
    async fn level(&self) -> Option<ParamLevel> {
        ParamLevel::parse(&self.0.level)
    }
    /// Null when the change put the level above back in force.
    async fn value(&self) -> Option<String> {
        service::params::display(&self.0)
    }
    async fn effective_from(&self) -> NaiveDate {
        self.0.effective_from
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn changed_by(&self) -> &str {
        &self.0.created_by
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct ParamsQuery;

#[Object]
impl ParamsQuery {
    /// Every parameter in force on a day (default today) for a territory, an operation or a
    /// market (give exactly one), with the level it comes from.
    async fn parameters(
        &self,
        ctx: &Context<'_>,
        territory_id: Option<ID>,
        operation_id: Option<ID>,
        market_id: Option<ID>,
        on: Option<NaiveDate>,
    ) -> Result<Vec<ParameterInForce>> {
        let set = service::params::in_force(
            app(ctx),
            actor(ctx)?,
            territory_id.as_ref(),
            operation_id.as_ref(),
            market_id.as_ref(),
            on,
        )
        .await?;
        Ok(set.all().into_iter().map(ParameterInForce::from).collect())
    }

    /// Changes made in a territory, at every level, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn parameter_changes(
        &self,
        ctx: &Context<'_>,
        territory_id: ID,
        key: Option<ParamKey>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<ParameterChange>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::params::changes(app(ctx), actor(ctx)?, &territory_id, key, args).await?;
        Ok(connection::connection(page, had, |m| m.id, ParameterChange))
    }
}

#[derive(Default)]
pub struct ParamsMutation;

#[Object]
impl ParamsMutation {
    /// Sets (or, with a null value, resets) a parameter from a day on; administrators only.
    async fn set_parameter(
        &self,
        ctx: &Context<'_>,
        input: SetParameterInput,
    ) -> Result<ParameterChange> {
        Ok(ParameterChange(
            service::params::set(app(ctx), actor(ctx)?, input).await?,
        ))
    }
}
