use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "room_commands")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub node_id: String,
    pub session_id: i64,
    pub body: String,
    pub reply: Option<String>,
    pub done: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
