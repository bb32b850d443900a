//! Relay connections over service pages.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, OutputType};
use uuid::Uuid;

use crate::error::AppResult;
use crate::ids;
use crate::service::Ctx;
use crate::service::page::{Page, PageArgs};

pub type Conn<T> = Connection<String, T>;

pub fn args(after: Option<String>, first: Option<i32>) -> AppResult<PageArgs> {
    let after = after.as_deref().map(ids::parse_cursor).transpose()?;
    PageArgs::new(after, first)
}

pub fn connection<M, T: OutputType>(
    page: Page<M>,
    had_cursor: bool,
    id: impl Fn(&M) -> Uuid,
    wrap: impl Fn(M) -> T,
) -> Conn<T> {
    let mut conn = Connection::new(had_cursor, page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|m| Edge::new(ids::cursor(id(&m)), wrap(m))),
    );
    conn
}

pub fn app<'a>(ctx: &Context<'a>) -> &'a Ctx {
    ctx.data_unchecked::<Ctx>()
}
