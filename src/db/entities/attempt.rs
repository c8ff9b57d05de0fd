use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub quiz_id: i64,
    pub person_id: i64,
    pub number: i32,
    pub seed: i64,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub deadline: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub submitted_by: Option<String>,
    pub correct: Option<i32>,
    pub total: i32,
    pub passed: Option<bool>,
    pub makeup: bool,
    /// Whether this is the chair's attempt that counts at the quiz (`services::quiz::recount`).
    pub counts: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
