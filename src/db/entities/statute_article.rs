use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statute_articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub statute_id: String,
    pub revision_date: String,
    pub number: i32,
    pub label: String,
    pub chapter: String,
    pub text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
