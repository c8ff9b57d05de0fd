use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quizzes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: i64,
    pub blueprint: String,
    pub pass_mark: i32,
    pub time_limit_minutes: i32,
    pub attempts_allowed: i32,
    pub retake_wait_minutes: i32,
    pub attendance_gate: i32,
    pub reveal: String,
    pub status: String,
    pub opened_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
