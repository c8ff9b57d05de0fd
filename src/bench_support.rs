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
