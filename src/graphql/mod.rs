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
        let loader = DataLoader::new(loaders::AppLoader { ctx: ctx.clone() }, tokio::spawn)
            .delay(std::time::Duration::from_millis(1));
        builder = builder.data(ctx).data(loader);
    }
    builder.finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
