use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub phone_key: String,
    pub address_key: String,
    pub person_id: Option<i64>,
    pub code_hash: String,
    pub issued_at: DateTimeUtc,
    pub tries: i32,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
