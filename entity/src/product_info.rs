//! A product, its price in minor units, and the stock counters (`0 <= reserved <= on_hand`, enforced by CHECKs).

use sea_orm::entity::prelude::*;

/// One row of `product_info`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_info")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub sku: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock_on_hand: i32,
    pub stock_reserved: i32,
    pub low_stock_threshold: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
