use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub file_name: String,
    pub bank_id: Option<i64>,
    pub problems: Option<String>,
    pub checked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
