//! Data set-up for the benchmarks (`loadgen`): what a district looks like after a year of training.
//!
//! Where the service has a function for a row (people, sessions, quizzes, certificates) this uses it.
//! The district's tens of thousands of chairs, attempts, attendance and certificates go straight to the
//! tables in batches instead: the service creates those one at a time through user actions and has no
//! bulk API, and should not grow one for a benchmark. Those inserts name tables and columns, so a schema
//! change that breaks them shows up as a failing `report_bench`.

use quorum::db::certificates as db;
use quorum::domain::certificate::{CertificateContent, new_verification_code, serial};
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
    use quorum::domain::contact::{EmailAddress, PhoneNumber};
    use quorum::domain::person::DisplayName;
    let district = quorum::services::org::create_unit(conn, None, "测试区", None).await?;
    let street = quorum::services::org::create_unit(conn, Some(district.id), "测试街道", None).await?;
    let person = quorum::db::people::insert(
        conn,
        quorum::db::people::NewPerson {
            name: &DisplayName::parse("王秀英").map_err(|e| anyhow::anyhow!("{e}"))?,
            phone: &PhoneNumber::parse("13900000001").map_err(|e| anyhow::anyhow!("{e}"))?,
            email: Some(&EmailAddress::parse("wang@example.com").map_err(|e| anyhow::anyhow!("{e}"))?),
            password_hash: None,
            committee_id: None,
            position: None,
        },
    )
    .await?;
    let now = chrono::Utc::now();
    let session = quorum::db::training::insert(
        conn,
        quorum::db::training::NewSession {
            title: "压力测试",
            description: "",
            street_id: street.id,
            starts_at: now,
            ends_at: now,
            created_by: None,
            invite_token: quorum::services::tokens::new_token(),
            lecturers: &[],
            committees: &[],
        },
    )
    .await?;
    let quiz = quorum::db::quiz::save_settings(conn, session, &quorum::domain::quiz::QuizSettings::default()).await?;
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
            }],
        )
        .await?;
        let code = new_verification_code();
        let id = db::insert(
            conn,
            db::NewCertificate {
                attempt_id: attempts[0],
                person_id: person,
                session_id: session,
                street_id: street.id,
                serial: &format!("p-{code}"),
                code: &code,
                content,
            },
        )
        .await?;
        db::set_serial(conn, id, &serial(2026, street.id, id as u64)).await?;
        db::enqueue(conn, id, "wang@example.com", &format!("cert-{id}")).await?;
    }
    Ok(n)
}

/// What `district` created.
pub struct District {
    pub street: i64,
    pub official: i64,
    pub sessions: Vec<i64>,
}

/// A district for the report benchmark: 10 streets × 10 居委 × 10 estates (1,000 committees) × 10 chairs
/// (10,000), `sessions` sessions spread over the streets, each inviting its street's committees, and
/// `attempts` submitted attempts (about 70 % passing, each pass with a certificate) with attendance.
pub async fn district(conn: &DatabaseConnection, sessions: usize, attempts: usize) -> anyhow::Result<District> {
    let now = chrono::Utc::now();
    let district = quorum::services::org::create_unit(conn, None, "测试区", None).await?;
    let mut streets = Vec::new();
    let mut committees_of: Vec<Vec<i64>> = Vec::new();
    for s in 0..10 {
        let street = quorum::services::org::create_unit(conn, Some(district.id), &format!("街道{s}"), None).await?;
        let mut cs = Vec::new();
        for n in 0..10 {
            for e in 0..10 {
                cs.push(
                    quorum::services::org::ensure_committee(
                        conn,
                        street.id,
                        &format!("居委{n}"),
                        &format!("小区{n}-{e}"),
                    )
                    .await?,
                );
            }
        }
        streets.push(street.id);
        committees_of.push(cs);
    }
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
    insert_rows(
        conn,
        "people",
        &[
            "display_name",
            "phone",
            "committee_id",
            "position",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    let mut people: Vec<(i64, Option<i64>)> = Vec::new();
    let select = Query::select()
        .columns([Alias::new("id"), Alias::new("committee_id")])
        .from(Alias::new("people"))
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    for row in conn.query_all(&select).await? {
        people.push((row.try_get("", "id")?, row.try_get("", "committee_id")?));
    }
    let roles = people
        .iter()
        .map(|(id, _)| vec![Expr::val(*id), Expr::val("chair")])
        .collect();
    insert_rows(conn, "person_roles", &["person_id", "role"], roles).await?;
    let official = quorum::db::people::insert(
        conn,
        quorum::db::people::NewPerson {
            name: &quorum::domain::person::DisplayName::parse("街道干部").map_err(|e| anyhow::anyhow!("{e}"))?,
            phone: &quorum::domain::contact::PhoneNumber::parse("13700000001").map_err(|e| anyhow::anyhow!("{e}"))?,
            email: None,
            password_hash: None,
            committee_id: None,
            position: None,
        },
    )
    .await?;
    quorum::db::people::set_roles(
        conn,
        official,
        &quorum::domain::person::Roles::new([quorum::domain::person::Role::Official]),
    )
    .await?;
    quorum::db::people::set_official_streets(conn, official, &streets).await?;
    let chairs_of_street = |s: usize| -> Vec<i64> {
        let cs: std::collections::HashSet<i64> = committees_of[s].iter().copied().collect();
        people
            .iter()
            .filter(|(_, c)| c.is_some_and(|c| cs.contains(&c)))
            .map(|(id, _)| *id)
            .collect()
    };
    let content = serde_json::to_string(&CertificateContent {
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
    })?;
    let per_session = attempts / sessions.max(1);
    let mut session_ids = Vec::new();
    let mut rng = quorum::domain::quiz::SeededRng::new(7);
    for i in 0..sessions {
        let s = i % streets.len();
        let start = now - chrono::Duration::days((i % 200) as i64 + 1);
        let id = quorum::db::training::insert(
            conn,
            quorum::db::training::NewSession {
                title: &format!("培训{i}"),
                description: "",
                street_id: streets[s],
                starts_at: start,
                ends_at: start + chrono::Duration::minutes(90),
                created_by: None,
                invite_token: quorum::services::tokens::new_token(),
                lecturers: &[],
                committees: &committees_of[s],
            },
        )
        .await?;
        quorum::db::training::set_status(conn, id, quorum::domain::session::SessionStatus::Live, start).await?;
        quorum::db::training::set_status(
            conn,
            id,
            quorum::domain::session::SessionStatus::Ended,
            start + chrono::Duration::minutes(90),
        )
        .await?;
        let quiz = quorum::db::quiz::save_settings(conn, id, &quorum::domain::quiz::QuizSettings::default()).await?;
        let chairs = chairs_of_street(s);
        let offset = (i / streets.len()) * 37 % chairs.len().max(1);
        let mut attempt_rows = Vec::new();
        let mut intervals = Vec::new();
        for k in 0..per_session.min(chairs.len()) {
            let p = chairs[(offset + k) % chairs.len()];
            let correct = (rng.below(11)) as i32;
            attempt_rows.push(vec![
                Expr::val(quiz),
                Expr::val(p),
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
            ]);
            let left = start + chrono::Duration::minutes(30 + (k % 60) as i64);
            intervals.push(vec![
                Expr::val(id),
                Expr::val(p),
                Expr::val(start),
                Expr::val(left),
                Expr::val(left),
            ]);
        }
        insert_rows(
            conn,
            "attempts",
            &[
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
            ],
            attempt_rows,
        )
        .await?;
        insert_rows(
            conn,
            "attendance_intervals",
            &["session_id", "person_id", "joined_at", "last_seen_at", "left_at"],
            intervals,
        )
        .await?;
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
                    Expr::val(id),
                    Expr::val(streets[s]),
                    Expr::val(format!("B-{a}")),
                    Expr::val(new_verification_code()),
                    Expr::val(content.clone()),
                    Expr::val(start),
                ]
            })
            .collect();
        insert_rows(
            conn,
            "certificates",
            &[
                "attempt_id",
                "person_id",
                "session_id",
                "street_id",
                "serial",
                "code",
                "content",
                "issued_at",
            ],
            certs,
        )
        .await?;
        session_ids.push(id);
    }
    Ok(District {
        street: streets[0],
        official,
        sessions: session_ids,
    })
}
