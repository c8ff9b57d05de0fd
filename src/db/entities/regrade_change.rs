use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "regrade_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub regrade_id: i64,
    pub attempt_id: i64,
    pub correct_before: i32,
    pub correct_after: i32,
    pub passed_before: bool,
    pub passed_after: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
