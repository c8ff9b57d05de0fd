use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "question_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub question_id: i64,
    pub version_no: i32,
    pub kind: String,
    pub stem: String,
    pub options: String,
    pub answer: String,
    pub explanation: String,
    pub tags: String,
    pub difficulty: i16,
    pub rule: Option<String>,
    pub fingerprint: String,
    pub created_by: Option<String>,
    pub author_id: Option<i64>,
    pub approved_by: Option<String>,
    pub approved_by_id: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub returned_by: Option<String>,
    pub returned_at: Option<DateTimeUtc>,
    pub return_comment: Option<String>,
    pub created_at: DateTimeUtc,
    /// Null while the version is its author's draft.
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
