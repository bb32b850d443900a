//! DataLoaders: every relation a list can reach is loaded in one query per batch.
//! The loader keeps no cache between requests (async-graphql's default), so totals are fresh.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ErrorExtensions};
use entity::{
    exit_follow_up, hour_entry, hour_entry_review, immersion, lot, placement_exit, territory,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::auth::Actor;
use crate::error::AppError;
use crate::service::Ctx;
use crate::service::scope::Scoped;
use crate::service::stats::{self, Scope, Totals};

pub struct AppLoader {
    pub ctx: Ctx,
    /// The request's caller, for loads that record who read what.
    pub actor: Option<Actor>,
    /// Files whose reading this request has already logged. The loader's cache is not enough:
    /// a key asked again while its first batch is still in flight goes out in a second batch.
    pub logged: std::sync::Mutex<std::collections::HashSet<Uuid>>,
}

impl AppLoader {
    pub fn new(ctx: Ctx, actor: Option<Actor>) -> Self {
        AppLoader {
            ctx,
            actor,
            logged: Default::default(),
        }
    }
}

pub type DataLoader =
    async_graphql::dataloader::DataLoader<AppLoader, async_graphql::dataloader::HashMapCache>;

pub trait HasId {
    fn id(&self) -> Uuid;
}

macro_rules! has_id {
    ($($m:ident),*) => { $(impl HasId for entity::$m::Model { fn id(&self) -> Uuid { self.id } })* };
}
has_id!(
    territory,
    organization,
    operation,
    market,
    lot,
    participant,
    placement,
    hour_entry,
    chantier,
    convention,
    commission
);

/// A row of entity `E` by primary key.
pub struct ById<E>(pub Uuid, PhantomData<fn() -> E>);

impl<E> ById<E> {
    pub fn new(id: Uuid) -> Self {
        Self(id, PhantomData)
    }
}
impl<E> Clone for ById<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for ById<E> {}
impl<E> PartialEq for ById<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for ById<E> {}
impl<E> Hash for ById<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

fn err(e: impl Into<AppError>) -> async_graphql::Error {
    e.into().extend()
}

/// Rows by primary key, in the caller's scope: a key out of scope is absent, like a missing row.
/// This is the only way the API loads a related object.
impl<E> Loader<ById<E>> for AppLoader
where
    E: Scoped,
    E::Model: HasId + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ById<E>]) -> Result<HashMap<ById<E>, E::Model>, Self::Error> {
        // No caller, or a role with no scope at all for this kind: nothing is visible.
        let Some(visible) = self.actor.as_ref().and_then(|a| E::visible(a).ok()) else {
            return Ok(HashMap::new());
        };
        let rows = E::find()
            .filter(visible)
            .filter(E::id_column().is_in(keys.iter().map(|k| k.0)))
            .all(&self.ctx.db.conn)
            .await
            .map_err(err)?;
        Ok(rows.into_iter().map(|m| (ById::new(m.id()), m)).collect())
    }
}

/// A row that belongs to a parent object (a convention's parties, a chantier's funding lines…):
/// its nested list is loaded for a whole page of parents in one query. The parent was loaded
/// through the caller's scope; its children are part of it.
pub trait Child: EntityTrait {
    fn parent_column() -> Self::Column;
    fn order_column() -> Self::Column;
    /// Newest first rather than in order.
    const DESCENDING: bool;
    fn parent_of(m: &Self::Model) -> Uuid;
}

macro_rules! child {
    ($($m:ident: $parent:ident ($field:ident) by $order:ident $(, $desc:tt)?;)*) => {$(
        impl Child for entity::$m::Entity {
            fn parent_column() -> Self::Column {
                entity::$m::Column::$parent
            }
            fn order_column() -> Self::Column {
                entity::$m::Column::$order
            }
            const DESCENDING: bool = child!(@desc $($desc)?);
            fn parent_of(m: &Self::Model) -> Uuid {
                m.$field
            }
        }
    )*};
    (@desc) => { false };
    (@desc desc) => { true };
}

child! {
    chantier_supervisor: ChantierId (chantier_id) by Id;
    funding_line: ChantierId (chantier_id) by Id;
    convention_party: ConventionId (convention_id) by Id;
    convention_amount: ConventionId (convention_id) by Year;
    convention_document: ConventionId (convention_id) by Id;
    commission_member: CommissionId (commission_id) by Id;
    decision: CommissionId (commission_id) by Id;
    eligibility: ParticipantId (participant_id) by Id, desc;
    eligibility_proof: EligibilityId (eligibility_id) by Id;
    pass_iae: ParticipantId (participant_id) by StartDate, desc;
    commercial_derogation: ChantierId (chantier_id) by Id, desc;
    user_territory: UserId (user_id) by TerritoryId;
}

/// The children of one parent, of entity `E`.
pub struct ChildrenOf<E>(pub Uuid, PhantomData<fn() -> E>);

impl<E> Clone for ChildrenOf<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for ChildrenOf<E> {}
impl<E> PartialEq for ChildrenOf<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for ChildrenOf<E> {}
impl<E> Hash for ChildrenOf<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl<E> Loader<ChildrenOf<E>> for AppLoader
where
    E: Child,
    E::Model: Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ChildrenOf<E>],
    ) -> Result<HashMap<ChildrenOf<E>, Self::Value>, Self::Error> {
        let order = if E::DESCENDING {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        };
        let rows = E::find()
            .filter(E::parent_column().is_in(keys.iter().map(|k| k.0)))
            .order_by(E::order_column(), order)
            .all(&self.ctx.db.conn)
            .await
            .map_err(err)?;
        let mut out: HashMap<ChildrenOf<E>, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for r in rows {
            out.entry(ChildrenOf(E::parent_of(&r), PhantomData))
                .or_default()
                .push(r);
        }
        Ok(out)
    }
}

/// A parent's nested list, batched with the other parents of the page.
pub async fn children<E>(ctx: &Context<'_>, parent: Uuid) -> async_graphql::Result<Vec<E::Model>>
where
    E: Child,
    E::Model: Clone + Send + Sync,
{
    Ok(loader(ctx)
        .load_one(ChildrenOf::<E>(parent, PhantomData))
        .await?
        .unwrap_or_default())
}

/// The lots of a market, by number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LotsOf(pub Uuid);

impl Loader<LotsOf> for AppLoader {
    type Value = Vec<lot::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[LotsOf]) -> Result<HashMap<LotsOf, Self::Value>, Self::Error> {
        let rows = lot::Entity::find()
            .filter(lot::Column::MarketId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(lot::Column::Number)
            .all(&self.ctx.db.conn)
            .await
            .map_err(err)?;
        let mut out: HashMap<LotsOf, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for l in rows {
            out.entry(LotsOf(l.market_id)).or_default().push(l);
        }
        Ok(out)
    }
}

/// The last final report of a market, and whether the ledger is still as it was made from.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FinalReportOf(pub Uuid);

impl Loader<FinalReportOf> for AppLoader {
    type Value = (entity::market_final_report::Model, bool);
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[FinalReportOf],
    ) -> Result<HashMap<FinalReportOf, Self::Value>, Self::Error> {
        use crate::service::final_report;
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let conn = &self.ctx.db.conn;
        let reports = final_report::latest(conn, &ids).await.map_err(err)?;
        let with: Vec<Uuid> = reports.keys().copied().collect();
        let sizes = final_report::ledger_sizes(conn, &with).await.map_err(err)?;
        Ok(reports
            .into_iter()
            .map(|(m, r)| {
                let current =
                    final_report::is_current(&r, sizes.get(&m).copied().unwrap_or_default());
                (FinalReportOf(m), (r, current))
            })
            .collect())
    }
}

/// Ledger totals of a market or a lot.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TotalsOf(pub Scope, pub Uuid);

impl Loader<TotalsOf> for AppLoader {
    type Value = Totals;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[TotalsOf]) -> Result<HashMap<TotalsOf, Totals>, Self::Error> {
        let mut out = HashMap::new();
        for scope in [Scope::Market, Scope::Lot] {
            let ids: Vec<Uuid> = keys.iter().filter(|k| k.0 == scope).map(|k| k.1).collect();
            if ids.is_empty() {
                continue;
            }
            let totals = stats::totals(&self.ctx, &self.ctx.db.conn, scope, &ids)
                .await
                .map_err(err)?;
            out.extend(totals.into_iter().map(|(id, t)| (TotalsOf(scope, id), t)));
        }
        Ok(out)
    }
}

/// The review (decision) of a ledger entry, if any.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReviewOf(pub Uuid);

impl Loader<ReviewOf> for AppLoader {
    type Value = hour_entry_review::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ReviewOf]) -> Result<HashMap<ReviewOf, Self::Value>, Self::Error> {
        let rows = hour_entry_review::Entity::find()
            .filter(hour_entry_review::Column::HourEntryId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.ctx.db.conn)
            .await
            .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|r| (ReviewOf(r.hour_entry_id), r))
            .collect())
    }
}

/// The exit of a placement, and the situation a year later.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitOf(pub Uuid);

impl Loader<ExitOf> for AppLoader {
    type Value = (Option<placement_exit::Model>, Option<exit_follow_up::Model>);
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ExitOf]) -> Result<HashMap<ExitOf, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let conn = &self.ctx.db.conn;
        let exits = placement_exit::Entity::find()
            .filter(placement_exit::Column::PlacementId.is_in(ids.clone()))
            .all(conn)
            .await
            .map_err(err)?;
        let follow_ups = exit_follow_up::Entity::find()
            .filter(exit_follow_up::Column::PlacementId.is_in(ids))
            .all(conn)
            .await
            .map_err(err)?;
        let mut out: HashMap<ExitOf, Self::Value> = HashMap::new();
        for e in exits {
            let key = ExitOf(e.placement_id);
            out.entry(key).or_default().0 = Some(e);
        }
        for f in follow_ups {
            let key = ExitOf(f.placement_id);
            out.entry(key).or_default().1 = Some(f);
        }
        Ok(out)
    }
}

/// The immersions of a placement, by start.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImmersionsOf(pub Uuid);

impl Loader<ImmersionsOf> for AppLoader {
    type Value = Vec<immersion::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ImmersionsOf],
    ) -> Result<HashMap<ImmersionsOf, Self::Value>, Self::Error> {
        let rows = immersion::Entity::find()
            .filter(immersion::Column::PlacementId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(immersion::Column::StartDate)
            .all(&self.ctx.db.conn)
            .await
            .map_err(err)?;
        let mut out: HashMap<ImmersionsOf, Self::Value> = HashMap::new();
        for r in rows {
            out.entry(ImmersionsOf(r.placement_id)).or_default().push(r);
        }
        Ok(out)
    }
}

/// The corrections of a ledger entry, oldest first.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CorrectionsOf(pub Uuid);

impl Loader<CorrectionsOf> for AppLoader {
    type Value = Vec<hour_entry::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[CorrectionsOf],
    ) -> Result<HashMap<CorrectionsOf, Self::Value>, Self::Error> {
        let rows = hour_entry::Entity::find()
            .filter(hour_entry::Column::CorrectsId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(hour_entry::Column::Id)
            .all(&self.ctx.db.conn)
            .await
            .map_err(err)?;
        let mut out: HashMap<CorrectionsOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for e in rows {
            if let Some(root) = e.corrects_id {
                out.entry(CorrectionsOf(root)).or_default().push(e);
            }
        }
        Ok(out)
    }
}

/// What the caller may read of a person's file (field rules of the access table), batched.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentifiableKey(pub Uuid);

pub use crate::service::scope::Identifiable;

impl Loader<IdentifiableKey> for AppLoader {
    type Value = Identifiable;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[IdentifiableKey],
    ) -> Result<HashMap<IdentifiableKey, Identifiable>, Self::Error> {
        let Some(actor) = self.actor.as_ref() else {
            return Ok(HashMap::new());
        };
        let people: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = crate::service::scope::identifiable(&self.ctx.db.conn, actor, &people)
            .await
            .map_err(err)?;
        Ok(found
            .into_iter()
            .map(|(id, i)| (IdentifiableKey(id), i))
            .collect())
    }
}

/// A read of a participant's identity, to be recorded. Batched so that a page of people costs one
/// write, and cached so that the same file read twice in one request is logged once.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityRead(pub Uuid);

impl Loader<IdentityRead> for AppLoader {
    type Value = ();
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[IdentityRead]) -> Result<HashMap<IdentityRead, ()>, Self::Error> {
        let actor = self
            .actor
            .as_ref()
            .ok_or_else(|| AppError::unauthenticated().extend())?;
        let ids: Vec<Uuid> = {
            let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
            keys.iter()
                .map(|k| k.0)
                .filter(|id| logged.insert(*id))
                .collect()
        };
        if !ids.is_empty() {
            crate::service::participant::record_accesses(&self.ctx, actor, &ids)
                .await
                .map_err(err)?;
        }
        Ok(keys.iter().map(|k| (*k, ())).collect())
    }
}

/// A related object by ID, through the request's loader and the caller's scope: `None` when it is
/// missing or out of scope (the two cannot be told apart).
pub async fn one<E>(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<E::Model>>
where
    E: Scoped,
    E::Model: HasId + Clone + Send + Sync,
{
    ctx.data_unchecked::<DataLoader>()
        .load_one(ById::<E>::new(id))
        .await
}

pub async fn opt<E>(ctx: &Context<'_>, id: Option<Uuid>) -> async_graphql::Result<Option<E::Model>>
where
    E: Scoped,
    E::Model: HasId + Clone + Send + Sync,
{
    match id {
        Some(id) => one::<E>(ctx, id).await,
        None => Ok(None),
    }
}

/// A territory, which every caller may read (public metadata): a dangling key is an internal error.
pub async fn territory_of(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<territory::Model> {
    one::<territory::Entity>(ctx, id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("dangling territory {id}")).extend())
}

pub fn loader<'a>(ctx: &Context<'a>) -> &'a DataLoader {
    ctx.data_unchecked::<DataLoader>()
}
