use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_uploads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub street_id: i64,
    pub uploaded_by: i64,
    pub filename: String,
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub applied_at: Option<DateTimeUtc>,
    pub plan: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
