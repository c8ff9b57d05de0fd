//! Statute revisions and their article texts.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::{statute, statute_article};
pub use crate::domain::statute::StatuteInfo;
use crate::domain::statute::{Article, Statute};

fn to_info(m: statute::Model) -> StatuteInfo {
    StatuteInfo {
        short_id: m.short_id,
        title: m.title,
        current_revision: m.current_revision,
    }
}

pub async fn info(db: &impl ConnectionTrait, short_id: &str) -> Result<Option<StatuteInfo>, DbErr> {
    Ok(statute::Entity::find_by_id(short_id.to_string())
        .one(db)
        .await?
        .map(to_info))
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<StatuteInfo>, DbErr> {
    Ok(statute::Entity::find()
        .order_by_asc(statute::Column::ShortId)
        .all(db)
        .await?
        .into_iter()
        .map(to_info)
        .collect())
}

pub async fn has_revision(db: &impl ConnectionTrait, short_id: &str, revision: &str) -> Result<bool, DbErr> {
    Ok(statute_article::Entity::find()
        .filter(statute_article::Column::StatuteId.eq(short_id))
        .filter(statute_article::Column::RevisionDate.eq(revision))
        .count(db)
        .await?
        > 0)
}

/// Records a statute and makes `current_revision` the one in force.
pub async fn upsert(
    db: &impl ConnectionTrait,
    short_id: &str,
    title: &str,
    current_revision: &str,
) -> Result<(), DbErr> {
    let model = statute::ActiveModel {
        short_id: Set(short_id.to_string()),
        title: Set(title.to_string()),
        current_revision: Set(current_revision.to_string()),
        updated_at: Set(Utc::now()),
    };
    if statute::Entity::find_by_id(short_id.to_string())
        .one(db)
        .await?
        .is_some()
    {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}

/// Stores every article of one revision.
pub async fn insert_revision(db: &impl ConnectionTrait, s: &Statute) -> Result<(), DbErr> {
    let rows: Vec<statute_article::ActiveModel> = s
        .articles
        .values()
        .map(|a| statute_article::ActiveModel {
            statute_id: Set(s.short_id.clone()),
            revision_date: Set(s.revision_date.clone()),
            number: Set(a.number as i32),
            label: Set(a.label.chars().take(40).collect()),
            chapter: Set(a.chapter.chars().take(200).collect()),
            text: Set(a.text.clone()),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(100) {
        statute_article::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(())
}

fn to_article(r: statute_article::Model) -> Article {
    Article {
        number: r.number as u32,
        label: r.label,
        chapter: r.chapter,
        text: r.text,
    }
}

pub async fn load(db: &impl ConnectionTrait, short_id: &str, revision: &str) -> Result<Option<Statute>, DbErr> {
    let Some(info) = info(db, short_id).await? else {
        return Ok(None);
    };
    let rows = statute_article::Entity::find()
        .filter(statute_article::Column::StatuteId.eq(short_id))
        .filter(statute_article::Column::RevisionDate.eq(revision))
        .all(db)
        .await?;
    Ok(statute_of(info, revision, rows))
}

/// A statute at a revision from its rows; none without any.
fn statute_of(info: StatuteInfo, revision: &str, rows: Vec<statute_article::Model>) -> Option<Statute> {
    if rows.is_empty() {
        return None;
    }
    let articles: BTreeMap<u32, Article> = rows.into_iter().map(|r| (r.number as u32, to_article(r))).collect();
    Some(Statute {
        short_id: info.short_id,
        title: info.title,
        revision_date: revision.to_string(),
        articles,
    })
}

/// Every statute at its current revision, in two queries.
pub async fn current_all(db: &impl ConnectionTrait) -> Result<Vec<Statute>, DbErr> {
    let infos = all(db).await?;
    let rows = statute_article::Entity::find()
        .filter(statute_article::Column::StatuteId.is_in(infos.iter().map(|s| s.short_id.clone())))
        .filter(statute_article::Column::RevisionDate.is_in(infos.iter().map(|s| s.current_revision.clone())))
        .all(db)
        .await?;
    let mut by_statute: HashMap<String, Vec<statute_article::Model>> = HashMap::new();
    for r in rows {
        by_statute.entry(r.statute_id.clone()).or_default().push(r);
    }
    Ok(infos
        .into_iter()
        .filter_map(|s| {
            let mine = by_statute.remove(&s.short_id).unwrap_or_default();
            let current: Vec<_> = mine
                .into_iter()
                .filter(|r| r.revision_date == s.current_revision)
                .collect();
            let revision = s.current_revision.clone();
            statute_of(s, &revision, current)
        })
        .collect())
}

/// One article as it read in a revision.
pub async fn article(
    db: &impl ConnectionTrait,
    short_id: &str,
    revision: &str,
    number: u32,
) -> Result<Option<Article>, DbErr> {
    Ok(statute_article::Entity::find()
        .filter(statute_article::Column::StatuteId.eq(short_id))
        .filter(statute_article::Column::RevisionDate.eq(revision))
        .filter(statute_article::Column::Number.eq(number as i32))
        .one(db)
        .await?
        .map(to_article))
}

/// Where an article's text is: (statute, revision, article number).
pub type ArticleKey = (String, String, u32);

/// Several articles, each as it read in its revision, in one query (by key; missing ones are left out).
pub async fn articles(db: &impl ConnectionTrait, keys: &[ArticleKey]) -> Result<HashMap<ArticleKey, Article>, DbErr> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: HashSet<&ArticleKey> = keys.iter().collect();
    let rows = statute_article::Entity::find()
        .filter(statute_article::Column::StatuteId.is_in(keys.iter().map(|k| k.0.clone())))
        .filter(statute_article::Column::RevisionDate.is_in(keys.iter().map(|k| k.1.clone())))
        .filter(statute_article::Column::Number.is_in(keys.iter().map(|k| k.2 as i32)))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r.statute_id.clone(), r.revision_date.clone(), r.number as u32),
                to_article(r),
            )
        })
        .filter(|(k, _)| wanted.contains(k))
        .collect())
}
