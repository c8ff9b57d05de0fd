//! Quizzes, attempts and their items.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{attempt, attempt_item, person, quiz};
use crate::domain::quiz::{BlueprintRule, DrawnItem, Given, QuizSettings, Reveal};

pub use crate::domain::attempt::{AttemptRecord, AttemptStatus, ItemRecord};
pub use crate::domain::quiz::{QuizRecord, QuizStatus};

fn corrupt(what: &str, id: i64) -> DbErr {
    DbErr::Custom(format!("{what} {id} is unreadable"))
}

fn to_quiz(m: quiz::Model) -> Result<QuizRecord, DbErr> {
    let blueprint: Vec<BlueprintRule> = serde_json::from_str(&m.blueprint).map_err(|_| corrupt("quiz", m.id))?;
    let status = QuizStatus::parse(&m.status).ok_or_else(|| corrupt("quiz", m.id))?;
    Ok(QuizRecord {
        id: m.id,
        session_id: m.session_id,
        settings: QuizSettings {
            blueprint,
            pass_mark: m.pass_mark as u32,
            time_limit_minutes: m.time_limit_minutes as u32,
            attempts_allowed: m.attempts_allowed as u32,
            retake_wait_minutes: m.retake_wait_minutes as u32,
            attendance_gate: m.attendance_gate as u32,
            reveal: Reveal::parse(&m.reveal).unwrap_or(Reveal::AfterSubmit),
        },
        status,
        opened_at: m.opened_at,
        closes_at: m.closes_at,
        closed_at: m.closed_at,
    })
}

pub async fn for_session(db: &impl ConnectionTrait, session: i64) -> Result<Option<QuizRecord>, DbErr> {
    quiz::Entity::find()
        .filter(quiz::Column::SessionId.eq(session))
        .one(db)
        .await?
        .map(to_quiz)
        .transpose()
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<QuizRecord>, DbErr> {
    quiz::Entity::find_by_id(id).one(db).await?.map(to_quiz).transpose()
}

/// Creates or replaces a session's settings (only while the quiz is a draft).
pub async fn save_settings(db: &impl ConnectionTrait, session: i64, s: &QuizSettings) -> Result<i64, DbErr> {
    let blueprint = serde_json::to_string(&s.blueprint).map_err(|e| DbErr::Custom(e.to_string()))?;
    let mut m = quiz::ActiveModel {
        session_id: Set(session),
        blueprint: Set(blueprint),
        pass_mark: Set(s.pass_mark as i32),
        time_limit_minutes: Set(s.time_limit_minutes as i32),
        attempts_allowed: Set(s.attempts_allowed as i32),
        retake_wait_minutes: Set(s.retake_wait_minutes as i32),
        attendance_gate: Set(s.attendance_gate as i32),
        reveal: Set(s.reveal.code().to_string()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    match for_session(db, session).await? {
        Some(q) => {
            m.id = Set(q.id);
            m.update(db).await?;
            Ok(q.id)
        }
        None => {
            m.status = Set(QuizStatus::Draft.code().to_string());
            Ok(m.insert(db).await?.id)
        }
    }
}

/// Draft → open. False if it was not a draft (someone else opened it first).
pub async fn open(
    db: &impl ConnectionTrait,
    id: i64,
    at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = quiz::Entity::update_many()
        .col_expr(quiz::Column::Status, Expr::value("open"))
        .col_expr(quiz::Column::OpenedAt, Expr::value(at))
        .col_expr(quiz::Column::ClosesAt, Expr::value(closes_at))
        .filter(quiz::Column::Id.eq(id))
        .filter(quiz::Column::Status.eq("draft"))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn close(db: &impl ConnectionTrait, id: i64, at: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = quiz::Entity::update_many()
        .col_expr(quiz::Column::Status, Expr::value("closed"))
        .col_expr(quiz::Column::ClosedAt, Expr::value(at))
        .filter(quiz::Column::Id.eq(id))
        .filter(quiz::Column::Status.eq("open"))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Open quizzes whose closing time has passed.
pub async fn due_to_close(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<i64>, DbErr> {
    Ok(quiz::Entity::find()
        .filter(quiz::Column::Status.eq("open"))
        .filter(quiz::Column::ClosesAt.lt(now))
        .all(db)
        .await?
        .into_iter()
        .map(|q| q.id)
        .collect())
}

fn to_attempt(m: attempt::Model) -> AttemptRecord {
    AttemptRecord {
        id: m.id,
        quiz_id: m.quiz_id,
        person_id: m.person_id,
        number: m.number,
        seed: m.seed as u64,
        status: if m.status == "submitted" {
            AttemptStatus::Submitted
        } else {
            AttemptStatus::Open
        },
        created_at: m.created_at,
        started_at: m.started_at,
        deadline: m.deadline,
        submitted_at: m.submitted_at,
        submitted_by: m.submitted_by,
        correct: m.correct,
        total: m.total,
        passed: m.passed,
        makeup: m.makeup,
    }
}

pub struct NewAttempt {
    pub person_id: i64,
    pub number: i32,
    pub seed: u64,
    pub deadline: DateTime<Utc>,
    pub items: Vec<DrawnItem>,
    /// Taken in the make-up window.
    pub makeup: bool,
}

/// Inserts attempts with their items in bulk (hundreds of chairs at once when a quiz opens).
pub async fn insert_attempts(
    db: &impl ConnectionTrait,
    quiz_id: i64,
    list: Vec<NewAttempt>,
) -> Result<Vec<i64>, DbErr> {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(list.len());
    let mut items = Vec::new();
    for a in list {
        let m = attempt::ActiveModel {
            quiz_id: Set(quiz_id),
            person_id: Set(a.person_id),
            number: Set(a.number),
            seed: Set(a.seed as i64),
            status: Set("open".into()),
            created_at: Set(now),
            deadline: Set(a.deadline),
            total: Set(a.items.len() as i32),
            makeup: Set(a.makeup),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.push(m.id);
        items.extend(item_rows(m.id, a.items));
    }
    for chunk in items.chunks(200) {
        attempt_item::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(ids)
}

fn item_rows(attempt_id: i64, items: Vec<DrawnItem>) -> impl Iterator<Item = attempt_item::ActiveModel> {
    items
        .into_iter()
        .enumerate()
        .map(move |(pos, it)| attempt_item::ActiveModel {
            attempt_id: Set(attempt_id),
            position: Set(pos as i32),
            question_id: Set(it.question_id),
            version_id: Set(it.version_id),
            option_order: Set(serde_json::to_string(&it.order).unwrap_or_else(|_| "[]".into())),
            ..Default::default()
        })
}

pub async fn attempt(db: &impl ConnectionTrait, id: i64) -> Result<Option<AttemptRecord>, DbErr> {
    Ok(attempt::Entity::find_by_id(id).one(db).await?.map(to_attempt))
}

pub async fn attempts_of(db: &impl ConnectionTrait, quiz_id: i64, person: i64) -> Result<Vec<AttemptRecord>, DbErr> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::QuizId.eq(quiz_id))
        .filter(attempt::Column::PersonId.eq(person))
        .order_by_asc(attempt::Column::Number)
        .all(db)
        .await?
        .into_iter()
        .map(to_attempt)
        .collect())
}

pub async fn attempts_of_quiz(db: &impl ConnectionTrait, quiz_id: i64) -> Result<Vec<AttemptRecord>, DbErr> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::QuizId.eq(quiz_id))
        .all(db)
        .await?
        .into_iter()
        .map(to_attempt)
        .collect())
}

fn to_item(m: attempt_item::Model) -> Result<ItemRecord, DbErr> {
    Ok(ItemRecord {
        position: m.position,
        question_id: m.question_id,
        version_id: m.version_id,
        order: serde_json::from_str(&m.option_order).map_err(|_| corrupt("attempt item", m.id))?,
        answer: m
            .answer
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| corrupt("attempt item", m.id))?,
        answered_at: m.answered_at,
        correct: m.correct,
    })
}

pub async fn items(db: &impl ConnectionTrait, attempt_id: i64) -> Result<Vec<ItemRecord>, DbErr> {
    attempt_item::Entity::find()
        .filter(attempt_item::Column::AttemptId.eq(attempt_id))
        .order_by_asc(attempt_item::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(to_item)
        .collect()
}

/// The items of these attempts, by attempt, in position order; a few queries for any number.
pub async fn items_of_attempts(
    db: &impl ConnectionTrait,
    attempts: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<ItemRecord>>, DbErr> {
    let mut out: std::collections::HashMap<i64, Vec<ItemRecord>> = std::collections::HashMap::new();
    for chunk in attempts.chunks(500) {
        let rows = attempt_item::Entity::find()
            .filter(attempt_item::Column::AttemptId.is_in(chunk.iter().copied()))
            .order_by_asc(attempt_item::Column::AttemptId)
            .order_by_asc(attempt_item::Column::Position)
            .all(db)
            .await?;
        for m in rows {
            let attempt = m.attempt_id;
            out.entry(attempt).or_default().push(to_item(m)?);
        }
    }
    Ok(out)
}

/// Submitted attempts that answered this question with one of `versions` drawn.
pub async fn submitted_attempts_drawing(
    db: &impl ConnectionTrait,
    question_id: i64,
    versions: &[i64],
) -> Result<Vec<AttemptRecord>, DbErr> {
    let drew = Query::select()
        .column(attempt_item::Column::AttemptId)
        .from(attempt_item::Entity)
        .and_where(attempt_item::Column::QuestionId.eq(question_id))
        .and_where(attempt_item::Column::VersionId.is_in(versions.iter().copied()))
        .to_owned();
    Ok(attempt::Entity::find()
        .filter(attempt::Column::Status.eq("submitted"))
        .filter(attempt::Column::Id.in_subquery(drew))
        .order_by_asc(attempt::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_attempt)
        .collect())
}

/// Records a submitted attempt's new result after a regrade, with which items are now right.
pub async fn set_result(
    db: &impl ConnectionTrait,
    attempt_id: i64,
    correct: i32,
    passed: bool,
    item_results: &[(i32, bool)],
) -> Result<(), DbErr> {
    attempt::Entity::update_many()
        .col_expr(attempt::Column::Correct, Expr::value(correct))
        .col_expr(attempt::Column::Passed, Expr::value(passed))
        .filter(attempt::Column::Id.eq(attempt_id))
        .filter(attempt::Column::Status.eq("submitted"))
        .exec(db)
        .await?;
    mark_items(db, attempt_id, item_results).await
}

/// Saves an answer if — in the same statement — the attempt is still open and within `not_after`.
/// Returns whether it was saved; the caller explains a refusal.
pub async fn save_answer(
    db: &impl ConnectionTrait,
    attempt_id: i64,
    position: i32,
    given: &Given,
    now: DateTime<Utc>,
    deadline_not_before: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let json = serde_json::to_string(given).map_err(|e| DbErr::Custom(e.to_string()))?;
    let open_attempt = Query::select()
        .expr(Expr::val(1))
        .from(attempt::Entity)
        .and_where(Expr::col(attempt::Column::Id).eq(attempt_id))
        .and_where(Expr::col(attempt::Column::Status).eq("open"))
        .and_where(Expr::col(attempt::Column::Deadline).gte(deadline_not_before))
        .to_owned();
    let r = attempt_item::Entity::update_many()
        .col_expr(attempt_item::Column::Answer, Expr::value(json))
        .col_expr(attempt_item::Column::AnsweredAt, Expr::value(now))
        .filter(attempt_item::Column::AttemptId.eq(attempt_id))
        .filter(attempt_item::Column::Position.eq(position))
        .filter(Expr::exists(open_attempt))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn mark_started(db: &impl ConnectionTrait, attempt_id: i64, at: DateTime<Utc>) -> Result<(), DbErr> {
    attempt::Entity::update_many()
        .col_expr(attempt::Column::StartedAt, Expr::value(at))
        .filter(attempt::Column::Id.eq(attempt_id))
        .filter(attempt::Column::StartedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records the result; false if the attempt was already submitted (submitting twice is harmless).
pub async fn finish(
    db: &impl ConnectionTrait,
    attempt_id: i64,
    by: &str,
    correct: i32,
    passed: bool,
    item_results: &[(i32, bool)],
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = attempt::Entity::update_many()
        .col_expr(attempt::Column::Status, Expr::value("submitted"))
        .col_expr(attempt::Column::SubmittedAt, Expr::value(at))
        .col_expr(attempt::Column::SubmittedBy, Expr::value(by))
        .col_expr(attempt::Column::Correct, Expr::value(correct))
        .col_expr(attempt::Column::Passed, Expr::value(passed))
        .filter(attempt::Column::Id.eq(attempt_id))
        .filter(attempt::Column::Status.eq("open"))
        .exec(db)
        .await?;
    if r.rows_affected != 1 {
        return Ok(false);
    }
    mark_items(db, attempt_id, item_results).await?;
    Ok(true)
}

/// Records which items were right.
async fn mark_items(db: &impl ConnectionTrait, attempt_id: i64, item_results: &[(i32, bool)]) -> Result<(), DbErr> {
    for (pos, ok) in item_results {
        attempt_item::Entity::update_many()
            .col_expr(attempt_item::Column::Correct, Expr::value(*ok))
            .filter(attempt_item::Column::AttemptId.eq(attempt_id))
            .filter(attempt_item::Column::Position.eq(*pos))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Brings the deadline of a quiz's open attempts forward to `at` (never later than it was).
pub async fn end_open_attempts_by(db: &impl ConnectionTrait, quiz_id: i64, at: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(attempt::Entity::update_many()
        .col_expr(attempt::Column::Deadline, Expr::value(at))
        .filter(attempt::Column::QuizId.eq(quiz_id))
        .filter(attempt::Column::Status.eq("open"))
        .filter(attempt::Column::Deadline.gt(at))
        .exec(db)
        .await?
        .rows_affected)
}

/// Open attempts whose deadline is before `cutoff`.
pub async fn overdue(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<Vec<i64>, DbErr> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::Status.eq("open"))
        .filter(attempt::Column::Deadline.lt(cutoff))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}

pub async fn open_attempts_of_quiz(db: &impl ConnectionTrait, quiz_id: i64) -> Result<Vec<i64>, DbErr> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::QuizId.eq(quiz_id))
        .filter(attempt::Column::Status.eq("open"))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}

/// (started, submitted, passed) attempts of a quiz.
pub async fn counts(db: &impl ConnectionTrait, quiz_id: i64) -> Result<(u64, u64, u64), DbErr> {
    let base = || attempt::Entity::find().filter(attempt::Column::QuizId.eq(quiz_id));
    let started = base()
        .filter(attempt::Column::StartedAt.is_not_null())
        .count(db)
        .await?;
    let submitted = base().filter(attempt::Column::Status.eq("submitted")).count(db).await?;
    let passed = base().filter(attempt::Column::Passed.eq(true)).count(db).await?;
    Ok((started, submitted, passed))
}

/// Every answered item of every submitted attempt, with the attempt's score: (attempt, score %, version,
/// question, answer, correct). The data behind item analysis.
pub async fn submitted_items(
    db: &impl ConnectionTrait,
) -> Result<Vec<(i64, f64, i64, i64, Option<Given>, bool)>, DbErr> {
    let attempts: std::collections::HashMap<i64, f64> = attempt::Entity::find()
        .filter(attempt::Column::Status.eq("submitted"))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| a.total > 0)
        .map(|a| (a.id, a.correct.unwrap_or(0) as f64 * 100.0 / a.total as f64))
        .collect();
    let mut out = Vec::new();
    for chunk in attempts.keys().copied().collect::<Vec<_>>().chunks(500) {
        for m in attempt_item::Entity::find()
            .filter(attempt_item::Column::AttemptId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            let score = attempts.get(&m.attempt_id).copied().unwrap_or(0.0);
            let answer = m.answer.as_deref().and_then(|a| serde_json::from_str(a).ok());
            out.push((
                m.attempt_id,
                score,
                m.version_id,
                m.question_id,
                answer,
                m.correct.unwrap_or(false),
            ));
        }
    }
    Ok(out)
}

/// How the items of submitted attempts were answered, by question version: (version, answered,
/// right), over the attempts at these quizzes by members of these committees. One query that counts
/// in the database: a district's year holds about a million answered items.
pub async fn answer_counts(
    db: &impl ConnectionTrait,
    quizzes: &[i64],
    committees: &[i64],
) -> Result<Vec<(i64, i64, i64)>, DbErr> {
    if quizzes.is_empty() || committees.is_empty() {
        return Ok(Vec::new());
    }
    let members = Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .and_where(person::Column::CommitteeId.is_in(committees.iter().copied()))
        .to_owned();
    let attempts = Query::select()
        .column(attempt::Column::Id)
        .from(attempt::Entity)
        .and_where(attempt::Column::QuizId.is_in(quizzes.iter().copied()))
        .and_where(attempt::Column::Status.eq("submitted"))
        .and_where(attempt::Column::PersonId.in_subquery(members))
        .to_owned();
    attempt_item::Entity::find()
        .select_only()
        .column(attempt_item::Column::VersionId)
        .column_as(attempt_item::Column::Id.count(), "answered")
        .column_as(Expr::cust("SUM(CASE WHEN correct THEN 1 ELSE 0 END)"), "right_answers")
        .filter(attempt_item::Column::AttemptId.in_subquery(attempts))
        .group_by(attempt_item::Column::VersionId)
        .into_tuple()
        .all(db)
        .await
}

/// The quizzes of these sessions.
pub async fn for_sessions(db: &impl ConnectionTrait, sessions: &[i64]) -> Result<Vec<QuizRecord>, DbErr> {
    let mut out = Vec::new();
    for chunk in sessions.chunks(500) {
        for m in quiz::Entity::find()
            .filter(quiz::Column::SessionId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.push(to_quiz(m)?);
        }
    }
    Ok(out)
}

/// Each chair's tally over the attempts that count at these quizzes (one per quiz she submitted at):
/// `(person, submitted, passed, make-up submitted, make-up passed)`, summed by the database from the
/// counting index.
pub async fn counting_tallies(
    db: &impl ConnectionTrait,
    quizzes: &[i64],
) -> Result<Vec<(i64, i64, i64, i64, i64)>, DbErr> {
    use sea_orm::sea_query::Func;
    let mut out = Vec::new();
    // SUM over a boolean is not valid SQL on PostgreSQL: count the rows where it holds.
    let sum = |c: &str| Func::sum(Expr::cust(format!("CASE WHEN {c} THEN 1 ELSE 0 END")));
    for chunk in quizzes.chunks(500) {
        let q = Query::select()
            .column(attempt::Column::PersonId)
            .expr(Expr::col(attempt::Column::PersonId).count())
            .expr(sum("passed"))
            .expr(sum("makeup"))
            .expr(sum("makeup AND passed"))
            .from(attempt::Entity)
            .and_where(attempt::Column::QuizId.is_in(chunk.iter().copied()))
            .and_where(attempt::Column::Counts.eq(true))
            .group_by_col(attempt::Column::PersonId)
            .to_owned();
        for row in db.query_all(&q).await? {
            // Sums come back as BIGINT on PostgreSQL and INTEGER on SQLite; NUMERIC never (the
            // summed values are integers 0 and 1).
            let n = |i: usize| row.try_get_by_index::<i64>(i);
            out.push((n(0)?, n(1)?, n(2)?, n(3)?, n(4)?));
        }
    }
    Ok(out)
}

/// Marks `counting` as the chair's attempt that counts at the quiz, and her others as not.
pub async fn mark_counting(db: &impl ConnectionTrait, quiz_id: i64, person: i64, counting: i64) -> Result<(), DbErr> {
    attempt::Entity::update_many()
        .col_expr(attempt::Column::Counts, Expr::col(attempt::Column::Id).eq(counting))
        .filter(attempt::Column::QuizId.eq(quiz_id))
        .filter(attempt::Column::PersonId.eq(person))
        .exec(db)
        .await?;
    Ok(())
}

/// One person's attempts at these quizzes, in one query.
pub async fn attempts_of_person(
    db: &impl ConnectionTrait,
    person: i64,
    quizzes: &[i64],
) -> Result<Vec<AttemptRecord>, DbErr> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::PersonId.eq(person))
        .filter(attempt::Column::QuizId.is_in(quizzes.iter().copied()))
        .order_by_asc(attempt::Column::Number)
        .all(db)
        .await?
        .into_iter()
        .map(to_attempt)
        .collect())
}

/// Every attempt of one person, oldest first (her own data).
pub async fn attempts_by_person(db: &impl ConnectionTrait, person: i64) -> Result<Vec<AttemptRecord>, DbErr> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::PersonId.eq(person))
        .order_by_asc(attempt::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_attempt)
        .collect())
}

/// Clears the answers given in attempts submitted before `cutoff`, keeping which were right
/// (retention): scores and reports stay.
pub async fn clear_answers_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let old = Query::select()
        .column(attempt::Column::Id)
        .from(attempt::Entity)
        .and_where(attempt::Column::Status.eq("submitted"))
        .and_where(attempt::Column::SubmittedAt.lt(cutoff))
        .to_owned();
    let none: Option<String> = None;
    Ok(attempt_item::Entity::update_many()
        .col_expr(attempt_item::Column::Answer, Expr::value(none))
        .filter(attempt_item::Column::Answer.is_not_null())
        .filter(attempt_item::Column::AttemptId.in_subquery(old))
        .exec(db)
        .await?
        .rows_affected)
}
