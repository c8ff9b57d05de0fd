//! Data set-up shared by the benchmark binaries (not used by the service).

use sea_orm::DatabaseConnection;

use crate::db::certificates as db;
use crate::domain::certificate::{CertificateContent, new_verification_code, serial};

/// Inserts `n` certificates for one synthetic chair, each with a queued email; returns how many.
/// Certificates hang off attempts, so a minimal session, quiz and attempts are created too.
pub async fn certificates_with_jobs(
    conn: &DatabaseConnection,
    n: usize,
    content: &CertificateContent,
) -> anyhow::Result<usize> {
    use crate::domain::contact::{EmailAddress, PhoneNumber};
    use crate::domain::person::DisplayName;
    let district = crate::services::org::create_unit(conn, None, "测试区", None).await?;
    let street = crate::services::org::create_unit(conn, Some(district.id), "测试街道", None).await?;
    let person = crate::db::people::insert(
        conn,
        crate::db::people::NewPerson {
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
    let session = crate::db::training::insert(
        conn,
        crate::db::training::NewSession {
            title: "压力测试",
            description: "",
            street_id: street.id,
            starts_at: now,
            ends_at: now,
            created_by: None,
            invite_token: crate::services::tokens::new_token(),
            lecturers: &[],
            committees: &[],
        },
    )
    .await?;
    let quiz = crate::db::quiz::save_settings(conn, session, &crate::domain::quiz::QuizSettings::default()).await?;
    for k in 0..n {
        let attempts = crate::db::quiz::insert_attempts(
            conn,
            quiz,
            vec![crate::db::quiz::NewAttempt {
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
    use crate::db::entities::{attempt, attendance_interval, certificate, person, person_role};
    use sea_orm::{EntityTrait, QueryOrder, Set};
    let now = chrono::Utc::now();
    let district = crate::services::org::create_unit(conn, None, "测试区", None).await?;
    let mut streets = Vec::new();
    let mut committees_of: Vec<Vec<i64>> = Vec::new();
    for s in 0..10 {
        let street = crate::services::org::create_unit(conn, Some(district.id), &format!("街道{s}"), None).await?;
        let mut cs = Vec::new();
        for n in 0..10 {
            for e in 0..10 {
                cs.push(
                    crate::services::org::ensure_committee(
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
                rows.push(person::ActiveModel {
                    display_name: Set(format!("主任{s}{c:03}{k}")),
                    phone: Set(format!("135{:08}", s * 1000 + c * 10 + k)),
                    committee_id: Set(Some(*committee)),
                    position: Set(Some(if k == 0 { "主任" } else { "委员" }.into())),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in rows.chunks(500) {
        person::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    let people: Vec<(i64, Option<i64>)> = person::Entity::find()
        .order_by_asc(person::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.committee_id))
        .collect();
    let roles: Vec<_> = people
        .iter()
        .map(|(id, _)| person_role::ActiveModel {
            person_id: Set(*id),
            role: Set("chair".into()),
        })
        .collect();
    for chunk in roles.chunks(500) {
        person_role::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    let official = crate::db::people::insert(
        conn,
        crate::db::people::NewPerson {
            name: &crate::domain::person::DisplayName::parse("街道干部").map_err(|e| anyhow::anyhow!("{e}"))?,
            phone: &crate::domain::contact::PhoneNumber::parse("13700000001").map_err(|e| anyhow::anyhow!("{e}"))?,
            email: None,
            password_hash: None,
            committee_id: None,
            position: None,
        },
    )
    .await?;
    crate::db::people::set_roles(
        conn,
        official,
        &crate::domain::person::Roles::new([crate::domain::person::Role::Official]),
    )
    .await?;
    crate::db::people::set_official_streets(conn, official, &streets).await?;
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
    let mut rng = crate::domain::quiz::SeededRng::new(7);
    for i in 0..sessions {
        let s = i % streets.len();
        let start = now - chrono::Duration::days((i % 200) as i64 + 1);
        let id = crate::db::training::insert(
            conn,
            crate::db::training::NewSession {
                title: &format!("培训{i}"),
                description: "",
                street_id: streets[s],
                starts_at: start,
                ends_at: start + chrono::Duration::minutes(90),
                created_by: None,
                invite_token: crate::services::tokens::new_token(),
                lecturers: &[],
                committees: &committees_of[s],
            },
        )
        .await?;
        crate::db::training::set_status(conn, id, crate::domain::session::SessionStatus::Live, start).await?;
        crate::db::training::set_status(
            conn,
            id,
            crate::domain::session::SessionStatus::Ended,
            start + chrono::Duration::minutes(90),
        )
        .await?;
        let quiz = crate::db::quiz::save_settings(conn, id, &crate::domain::quiz::QuizSettings::default()).await?;
        let chairs = chairs_of_street(s);
        let offset = (i / streets.len()) * 37 % chairs.len().max(1);
        let mut attempt_rows = Vec::new();
        let mut intervals = Vec::new();
        for k in 0..per_session.min(chairs.len()) {
            let p = chairs[(offset + k) % chairs.len()];
            let correct = (rng.below(11)) as i32;
            attempt_rows.push(attempt::ActiveModel {
                quiz_id: Set(quiz),
                person_id: Set(p),
                number: Set(1),
                seed: Set(0),
                status: Set("submitted".into()),
                created_at: Set(start),
                started_at: Set(Some(start)),
                deadline: Set(start),
                submitted_at: Set(Some(start)),
                submitted_by: Set(Some("chair".into())),
                correct: Set(Some(correct)),
                total: Set(10),
                passed: Set(Some(correct >= 6)),
                ..Default::default()
            });
            intervals.push(attendance_interval::ActiveModel {
                session_id: Set(id),
                person_id: Set(p),
                joined_at: Set(start),
                last_seen_at: Set(start + chrono::Duration::minutes(30 + (k % 60) as i64)),
                left_at: Set(Some(start + chrono::Duration::minutes(30 + (k % 60) as i64))),
                ..Default::default()
            });
        }
        for chunk in attempt_rows.chunks(500) {
            attempt::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
        }
        for chunk in intervals.chunks(500) {
            attendance_interval::Entity::insert_many(chunk.to_vec())
                .exec(conn)
                .await?;
        }
        let passed: Vec<(i64, i64)> = crate::db::quiz::attempts_of_quiz(conn, quiz)
            .await?
            .into_iter()
            .filter(|a| a.passed == Some(true))
            .map(|a| (a.id, a.person_id))
            .collect();
        let certs: Vec<_> = passed
            .iter()
            .map(|(a, p)| certificate::ActiveModel {
                attempt_id: Set(*a),
                person_id: Set(*p),
                session_id: Set(id),
                street_id: Set(streets[s]),
                serial: Set(format!("B-{a}")),
                code: Set(new_verification_code()),
                content: Set(content.clone()),
                issued_at: Set(start),
                ..Default::default()
            })
            .collect();
        for chunk in certs.chunks(500) {
            certificate::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
        }
        session_ids.push(id);
    }
    Ok(District {
        street: streets[0],
        official,
        sessions: session_ids,
    })
}
