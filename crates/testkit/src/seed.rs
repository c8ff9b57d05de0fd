//! Data set-up for the benchmarks (`loadgen`): what a district looks like after a year of training.
//!
//! Where the service has a function for a row (people, sessions, quizzes, certificates) this uses it.
//! The district's tens of thousands of chairs, attempts, attendance and certificates go straight to the
//! tables in batches instead: the service creates those one at a time through user actions and has no
//! bulk API, and should not grow one for a benchmark. Those inserts name tables and columns, so a schema
//! change that breaks them shows up as a failing `report_bench`.

use chrono::{DateTime, Utc};
use quorum::db::certificates as db;
use quorum::domain::certificate::{CertificateContent, new_verification_code, serial};
use quorum::domain::contact::{EmailAddress, PhoneNumber};
use quorum::domain::person::{DisplayName, Role, Roles};
use quorum::domain::quiz::QuizSettings;
use quorum::domain::session::SessionStatus;
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Inserts `rows` (values in `columns` order) into `table`, 500 rows per statement.
async fn insert_rows(
    conn: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Expr>>,
) -> anyhow::Result<()> {
    for chunk in rows.chunks(500) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)));
        for row in chunk {
            insert.values(row.iter().cloned())?;
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}

/// Inserts `n` certificates for one synthetic chair, each with a queued email; returns how many.
/// Certificates hang off attempts, so a minimal session, quiz and attempts are created too.
pub async fn certificates_with_jobs(
    conn: &DatabaseConnection,
    n: usize,
    content: &CertificateContent,
) -> anyhow::Result<usize> {
    let district = quorum::services::org::create_unit(conn, None, "测试区", None).await?;
    let street = quorum::services::org::create_unit(conn, Some(district.id), "测试街道", None).await?;
    let person = insert_person(conn, "王秀英", "13900000001", Some("wang@example.com")).await?;
    let now = chrono::Utc::now();
    let session = insert_session(conn, "压力测试", street.id, &[], now, now).await?;
    let quiz = quorum::db::quiz::save_settings(conn, session, &QuizSettings::default()).await?;
    let issued = Issued {
        person,
        session,
        street: street.id,
        content,
    };
    for k in 0..n {
        let attempts = quorum::db::quiz::insert_attempts(
            conn,
            quiz,
            vec![quorum::db::quiz::NewAttempt {
                person_id: person,
                number: k as i32 + 1,
                seed: 0,
                deadline: now,
                items: vec![],
                makeup: false,
            }],
        )
        .await?;
        issue_with_email(conn, &issued, attempts[0]).await?;
    }
    Ok(n)
}

/// Who and what `certificates_with_jobs` certifies.
struct Issued<'a> {
    person: i64,
    session: i64,
    street: i64,
    content: &'a CertificateContent,
}

/// One certificate for `attempt`, with its serial and a queued email, as the service issues them.
async fn issue_with_email(conn: &DatabaseConnection, issued: &Issued<'_>, attempt: i64) -> anyhow::Result<()> {
    let code = new_verification_code();
    let id = db::insert(
        conn,
        db::NewCertificate {
            attempt_id: attempt,
            person_id: issued.person,
            session_id: issued.session,
            street_id: issued.street,
            serial: &format!("p-{code}"),
            code: &code,
            content: issued.content,
        },
    )
    .await?;
    db::set_serial(conn, id, &serial(2026, issued.street, id as u64)).await?;
    db::enqueue(
        conn,
        db::MailKind::Certificate,
        id,
        "wang@example.com",
        &format!("cert-{id}"),
    )
    .await?;
    Ok(())
}

/// A person without committee, position or password.
async fn insert_person(conn: &DatabaseConnection, name: &str, phone: &str, email: Option<&str>) -> anyhow::Result<i64> {
    let email = email
        .map(EmailAddress::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = quorum::db::people::insert(
        conn,
        quorum::db::people::NewPerson {
            name: &DisplayName::parse(name).map_err(|e| anyhow::anyhow!("{e}"))?,
            phone: &PhoneNumber::parse(phone).map_err(|e| anyhow::anyhow!("{e}"))?,
            email: email.as_ref(),
            password_hash: None,
            committee_id: None,
            position: None,
        },
    )
    .await?;
    Ok(id)
}

/// A session on `street` without lecturers, inviting `committees`.
async fn insert_session(
    conn: &DatabaseConnection,
    title: &str,
    street: i64,
    committees: &[i64],
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let id = quorum::db::sessions::insert(
        conn,
        quorum::db::sessions::NewSession {
            title,
            description: "",
            street_id: street,
            starts_at,
            ends_at,
            created_by: None,
            invite_token: quorum::services::tokens::new_token(),
            lecturers: &[],
            committees,
        },
    )
    .await?;
    Ok(id)
}

/// What `district` created.
pub struct District {
    pub district: i64,
    pub street: i64,
    /// An official of the whole district.
    pub official: i64,
    pub sessions: Vec<i64>,
}

/// A district for the report benchmark: 10 streets × 10 居委 × 10 estates (1,000 committees) × 10 chairs
/// (10,000), `sessions` sessions spread over the streets, each inviting its street's committees, and
/// `attempts` submitted attempts (about 70 % passing, each pass with a certificate) with attendance,
/// each with ten answered questions drawn from the shipped banks (which this loads).
pub async fn district(conn: &DatabaseConnection, sessions: usize, attempts: usize) -> anyhow::Result<District> {
    let now = chrono::Utc::now();
    let streets = Streets::create(conn, now).await?;
    let official = insert_official(conn, streets.district).await?;
    let questions = shipped_questions(conn).await?;
    let content = certificate_content()?;
    let per_session = attempts / sessions.max(1);
    let mut rng = quorum::domain::quiz::SeededRng::new(7);
    let mut session_ids = Vec::new();
    for i in 0..sessions {
        let s = i % streets.ids.len();
        let start = now - chrono::Duration::days((i % 200) as i64 + 1);
        let id = ended_session(conn, i, streets.ids[s], &streets.committees[s], start).await?;
        let quiz = quorum::db::quiz::save_settings(conn, id, &QuizSettings::default()).await?;
        let chairs = &streets.chairs[s];
        let offset = (i / streets.ids.len()) * 37 % chairs.len().max(1);
        let takers: Vec<i64> = (0..per_session.min(chairs.len()))
            .map(|k| chairs[(offset + k) % chairs.len()])
            .collect();
        insert_attempts(conn, quiz, &takers, start, &mut rng).await?;
        insert_items(conn, quiz, &questions, &mut rng).await?;
        insert_attendance(conn, id, &takers, start).await?;
        let held = Held {
            session: id,
            street: streets.ids[s],
            start,
        };
        insert_certificates(conn, quiz, &held, &content).await?;
        session_ids.push(id);
    }
    Ok(District {
        district: streets.district,
        street: streets.ids[0],
        official,
        sessions: session_ids,
    })
}

/// The district's streets, their committees, and the chairs of each street (by person id).
struct Streets {
    district: i64,
    ids: Vec<i64>,
    committees: Vec<Vec<i64>>,
    chairs: Vec<Vec<i64>>,
}

impl Streets {
    /// 10 streets × 10 居委 × 10 estates, and 10 chairs in each committee.
    async fn create(conn: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<Streets> {
        let district = quorum::services::org::create_unit(conn, None, "测试区", None).await?;
        let mut ids = Vec::new();
        let mut committees = Vec::new();
        for s in 0..10 {
            let street = quorum::services::org::create_unit(conn, Some(district.id), &format!("街道{s}"), None).await?;
            committees.push(street_committees(conn, street.id).await?);
            ids.push(street.id);
        }
        let people = insert_chairs(conn, &committees, now).await?;
        let chairs = committees.iter().map(|cs| chairs_in(&people, cs)).collect();
        Ok(Streets {
            district: district.id,
            ids,
            committees,
            chairs,
        })
    }
}

/// 10 居委 × 10 estates on one street: the committees' ids.
async fn street_committees(conn: &DatabaseConnection, street: i64) -> anyhow::Result<Vec<i64>> {
    let mut cs = Vec::new();
    for n in 0..10 {
        for e in 0..10 {
            let name = format!("居委{n}");
            cs.push(quorum::services::org::ensure_committee(conn, street, &name, &format!("小区{n}-{e}")).await?);
        }
    }
    Ok(cs)
}

/// The people (id order) whose committee is one of `committees`.
fn chairs_in(people: &[(i64, Option<i64>)], committees: &[i64]) -> Vec<i64> {
    let cs: std::collections::HashSet<i64> = committees.iter().copied().collect();
    people
        .iter()
        .filter(|(_, c)| c.is_some_and(|c| cs.contains(&c)))
        .map(|(id, _)| *id)
        .collect()
}

/// 10 chairs per committee, with the chair role; every person's (id, committee) in id order.
async fn insert_chairs(
    conn: &DatabaseConnection,
    committees_of: &[Vec<i64>],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(i64, Option<i64>)>> {
    let mut rows = Vec::new();
    for (s, cs) in committees_of.iter().enumerate() {
        for (c, committee) in cs.iter().enumerate() {
            for k in 0..10 {
                rows.push(vec![
                    Expr::val(format!("主任{s}{c:03}{k}")),
                    Expr::val(format!("135{:08}", s * 1000 + c * 10 + k)),
                    Expr::val(*committee),
                    Expr::val(if k == 0 { "主任" } else { "委员" }),
                    Expr::val(now),
                    Expr::val(now),
                ]);
            }
        }
    }
    let columns = [
        "display_name",
        "phone",
        "committee_id",
        "position",
        "created_at",
        "updated_at",
    ];
    insert_rows(conn, "people", &columns, rows).await?;
    let people = people_and_committees(conn).await?;
    let roles = people
        .iter()
        .map(|(id, _)| vec![Expr::val(*id), Expr::val("chair")])
        .collect();
    insert_rows(conn, "person_roles", &["person_id", "role"], roles).await?;
    Ok(people)
}

/// Every person's (id, committee), in id order.
async fn people_and_committees(conn: &DatabaseConnection) -> anyhow::Result<Vec<(i64, Option<i64>)>> {
    let select = Query::select()
        .columns([Alias::new("id"), Alias::new("committee_id")])
        .from(Alias::new("people"))
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    let mut people = Vec::new();
    for row in conn.query_all(&select).await? {
        people.push((row.try_get("", "id")?, row.try_get("", "committee_id")?));
    }
    Ok(people)
}

/// The street official who reads the reports, responsible for every street.
async fn insert_official(conn: &DatabaseConnection, district: i64) -> anyhow::Result<i64> {
    let official = insert_person(conn, "区干部", "13700000001", None).await?;
    quorum::db::people::set_roles(conn, official, &Roles::new([Role::Official])).await?;
    quorum::db::people::set_official_districts(conn, official, &[district]).await?;
    Ok(official)
}

/// Loads the shipped question banks; (question, version) of every question.
async fn shipped_questions(conn: &DatabaseConnection) -> anyhow::Result<Vec<(i64, i64)>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../question-banks");
    quorum::services::banks::sync_dir(conn, &dir).await?;
    let mut out = Vec::new();
    for bank in quorum::db::banks::banks(conn).await? {
        for q in quorum::db::banks::questions_of_bank(conn, bank.id).await? {
            out.push((q.id, q.current.id));
        }
    }
    anyhow::ensure!(out.len() >= 10, "the shipped banks have {} questions", out.len());
    Ok(out)
}

/// Ten answered items for each attempt at the quiz, as many right as the attempt's score, on questions
/// drawn at random (each question with a difficulty of its own would take a model; the per-area
/// analysis only needs answers to count).
async fn insert_items(
    conn: &DatabaseConnection,
    quiz: i64,
    questions: &[(i64, i64)],
    rng: &mut quorum::domain::quiz::SeededRng,
) -> anyhow::Result<()> {
    let attempts: Vec<(i64, i32)> = quorum::db::quiz::attempts_of_quiz(conn, quiz)
        .await?
        .iter()
        .map(|a| (a.id, a.correct.unwrap_or(0)))
        .collect();
    let mut rows = Vec::new();
    for (attempt, correct) in attempts {
        let first = rng.below(questions.len());
        for k in 0..10usize {
            let (question, version) = questions[(first + k * 7) % questions.len()];
            rows.push(vec![
                Expr::val(attempt),
                Expr::val(k as i32),
                Expr::val(question),
                Expr::val(version),
                Expr::val("[0,1,2,3]"),
                Expr::val("{\"choices\":[0]}"),
                Expr::val((k as i32) < correct),
            ]);
        }
    }
    insert_rows(conn, "attempt_items", ITEM_COLUMNS, rows).await
}

const ITEM_COLUMNS: &[&str] = &[
    "attempt_id",
    "position",
    "question_id",
    "version_id",
    "option_order",
    "answer",
    "correct",
];

/// The stored content (JSON) of every generated certificate.
fn certificate_content() -> anyhow::Result<String> {
    Ok(serde_json::to_string(&CertificateContent {
        name: "主任".into(),
        committee: "业主委员会".into(),
        estate: "小区".into(),
        session_title: "压力测试".into(),
        session_date: "2026年11月1日".into(),
        lecturers: vec![],
        correct: 8,
        total: 10,
        street: "街道".into(),
        issued_on: "2026年11月1日".into(),
        via_replay: false,
    })?)
}

/// Session number `i`: 90 minutes from `start`, gone live and ended.
async fn ended_session(
    conn: &DatabaseConnection,
    i: usize,
    street: i64,
    committees: &[i64],
    start: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let end = start + chrono::Duration::minutes(90);
    let id = insert_session(conn, &format!("培训{i}"), street, committees, start, end).await?;
    quorum::db::sessions::set_status(conn, id, SessionStatus::Live, start).await?;
    quorum::db::sessions::set_status(conn, id, SessionStatus::Ended, end).await?;
    Ok(id)
}

/// One submitted attempt per taker with a random score out of 10 (passing from 6).
async fn insert_attempts(
    conn: &DatabaseConnection,
    quiz: i64,
    takers: &[i64],
    start: DateTime<Utc>,
    rng: &mut quorum::domain::quiz::SeededRng,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for p in takers {
        let correct = (rng.below(11)) as i32;
        rows.push(vec![
            Expr::val(quiz),
            Expr::val(*p),
            Expr::val(1i32),
            Expr::val(0i64),
            Expr::val("submitted"),
            Expr::val(start),
            Expr::val(start),
            Expr::val(start),
            Expr::val(start),
            Expr::val("chair"),
            Expr::val(correct),
            Expr::val(10i32),
            Expr::val(correct >= 6),
            // Her only attempt at the quiz: the one that counts.
            Expr::val(true),
        ]);
    }
    insert_rows(conn, "attempts", ATTEMPT_COLUMNS, rows).await
}

const ATTEMPT_COLUMNS: &[&str] = &[
    "quiz_id",
    "person_id",
    "number",
    "seed",
    "status",
    "created_at",
    "started_at",
    "deadline",
    "submitted_at",
    "submitted_by",
    "correct",
    "total",
    "passed",
    "counts",
];

/// Each taker attended from the start for 30 to 89 minutes.
async fn insert_attendance(
    conn: &DatabaseConnection,
    session: i64,
    takers: &[i64],
    start: DateTime<Utc>,
) -> anyhow::Result<()> {
    let intervals = takers
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let left = start + chrono::Duration::minutes(30 + (k % 60) as i64);
            vec![
                Expr::val(session),
                Expr::val(*p),
                Expr::val(start),
                Expr::val(left),
                Expr::val(left),
            ]
        })
        .collect();
    let columns = ["session_id", "person_id", "joined_at", "last_seen_at", "left_at"];
    insert_rows(conn, "attendance_intervals", &columns, intervals).await
}

/// A generated session: where and when it was held.
struct Held {
    session: i64,
    street: i64,
    start: DateTime<Utc>,
}

/// A certificate for every passed attempt of `quiz`.
async fn insert_certificates(conn: &DatabaseConnection, quiz: i64, held: &Held, content: &str) -> anyhow::Result<()> {
    let passed: Vec<(i64, i64)> = quorum::db::quiz::attempts_of_quiz(conn, quiz)
        .await?
        .into_iter()
        .filter(|a| a.passed == Some(true))
        .map(|a| (a.id, a.person_id))
        .collect();
    let certs = passed
        .iter()
        .map(|(a, p)| {
            vec![
                Expr::val(*a),
                Expr::val(*p),
                Expr::val(held.session),
                Expr::val(held.street),
                Expr::val(format!("B-{a}")),
                Expr::val(new_verification_code()),
                Expr::val(content.to_string()),
                Expr::val(held.start),
            ]
        })
        .collect();
    insert_rows(conn, "certificates", CERTIFICATE_COLUMNS, certs).await
}

const CERTIFICATE_COLUMNS: &[&str] = &[
    "attempt_id",
    "person_id",
    "session_id",
    "street_id",
    "serial",
    "code",
    "content",
    "issued_at",
];
