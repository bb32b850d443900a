//! The GraphQL API: one module per area, merged into the roots here.

pub mod connection;
pub mod ledger;
pub mod loaders;
pub mod market;
pub mod node;
pub mod party;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::service::Ctx;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    node::NodeQuery,
    party::PartyQuery,
    market::MarketQuery,
    ledger::LedgerQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    party::PartyMutation,
    market::MarketMutation,
    ledger::LedgerMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest query accepted: a market → lots → awardee → territory is 5; 12 leaves room.
pub const MAX_DEPTH: usize = 12;
/// Costliest query accepted (a connection counts its page size times its children).
pub const MAX_COMPLEXITY: usize = 5_000;

pub fn build_schema(ctx: Option<Ctx>) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32);
    if let Some(ctx) = ctx {
        builder = builder.data(ctx);
    }
    builder.finish()
}

/// Gives a request its own DataLoader: its cache lives as long as the request, so what a list
/// prefetched is served to the fields below it, and nothing stale outlives the request.
pub fn prepare(req: async_graphql::Request, ctx: &Ctx) -> async_graphql::Request {
    let loader = DataLoader::with_cache(
        loaders::AppLoader { ctx: ctx.clone() },
        tokio::spawn,
        async_graphql::dataloader::HashMapCache::default(),
    )
    .delay(std::time::Duration::from_millis(1));
    req.data(loader)
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
