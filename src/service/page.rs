//! Keyset pagination over UUID v7 primary keys (creation order).

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;
pub const DEFAULT_PAGE: i32 = 20;

pub struct PageArgs {
    pub after: Option<Uuid>,
    pub first: u64,
}

impl PageArgs {
    pub fn new(after: Option<Uuid>, first: Option<i32>) -> AppResult<Self> {
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(AppError::bad_input(
                "first",
                format!("first : entre 0 et {MAX_PAGE}, reçu {first} (page size out of range)"),
            ));
        }
        Ok(Self {
            after,
            first: first as u64,
        })
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

/// Fetches one page of `select`, ordered by `id_col`, after the cursor.
pub async fn fetch<E, C>(
    conn: &C,
    select: Select<E>,
    id_col: E::Column,
    args: &PageArgs,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select.order_by_asc(id_col);
    if let Some(after) = args.after {
        select = select.filter(id_col.gt(after));
    }
    let mut items = select.limit(args.first + 1).all(conn).await?;
    let has_next = items.len() as u64 > args.first;
    items.truncate(args.first as usize);
    Ok(Page { items, has_next })
}

/// Rows whose folded `search_text` contains `text` (case and accents ignored on both stores),
/// with `%`, `_` and `\\` taken literally.
pub fn matches<C: ColumnTrait>(search_col: C, text: &str) -> Expr {
    let escaped: String = crate::domain::text::search_key(&[text])
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Expr::col(search_col).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Narrows `select` to rows whose `col` is the object a filter's optional ID names.
pub fn by_id<E: EntityTrait>(
    select: Select<E>,
    col: E::Column,
    kind: Kind,
    id: Option<&async_graphql::ID>,
    field: &str,
) -> AppResult<Select<E>> {
    Ok(match ids::decode_opt(kind, id, field)? {
        Some(v) => select.filter(col.eq(v)),
        None => select,
    })
}
