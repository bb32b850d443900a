//! The GraphQL API: one module per area, merged into the roots here.

pub mod access;
pub mod account;
pub mod chantier;
pub mod connection;
pub mod ledger;
pub mod limits;
pub mod loaders;
pub mod market;
pub mod node;
pub mod params;
pub mod party;
pub mod path;
pub mod reminders;
pub mod report;
pub mod workflow;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::domain::auth::Actor;
use crate::service::Ctx;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    node::NodeQuery,
    account::AccountQuery,
    party::PartyQuery,
    party::PrivacyQuery,
    market::MarketQuery,
    ledger::LedgerQuery,
    chantier::ChantierQuery,
    path::PathQuery,
    params::ParamsQuery,
    workflow::WorkflowQuery,
    reminders::ReminderQuery,
    report::ReportQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    account::AccountMutation,
    party::PartyMutation,
    party::PrivacyMutation,
    market::MarketMutation,
    ledger::LedgerMutation,
    chantier::ChantierMutation,
    path::PathMutation,
    params::ParamsMutation,
    workflow::WorkflowMutation,
    reminders::ReminderMutation,
    report::ReportMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest query accepted: a market → lots → awardee → territory is 5; 12 leaves room.
pub const MAX_DEPTH: usize = 12;
/// Costliest query accepted (a connection counts its page size times its children).
pub const MAX_COMPLEXITY: usize = 5_000;

pub fn build_schema(ctx: Option<Ctx>) -> AppSchema {
    build_schema_with(ctx, true)
}

/// The schema, with introspection on or off (a production setting).
pub fn build_schema_with(ctx: Option<Ctx>, introspection: bool) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    // First: the document is measured before anything else walks it.
    .extension(limits::Limits)
    .extension(access::AccessControl)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(limits::MAX_RECURSIVE_DEPTH);
    if !introspection {
        builder = builder.disable_introspection();
    }
    if let Some(ctx) = ctx {
        builder = builder.data(ctx);
    }
    builder.finish()
}

/// Gives a request its own DataLoader: its cache lives as long as the request, so what a list
/// prefetched is served to the fields below it, and nothing stale outlives the request.
pub fn prepare(
    req: async_graphql::Request,
    ctx: &Ctx,
    caller: Option<Actor>,
) -> async_graphql::Request {
    let loader = DataLoader::with_cache(
        loaders::AppLoader::new(ctx.clone(), caller.clone()),
        tokio::spawn,
        async_graphql::dataloader::HashMapCache::default(),
    )
    .delay(std::time::Duration::from_millis(1));
    req.data(loader)
        .data(access::Caller(caller))
        .data(access::Guarded::default())
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
