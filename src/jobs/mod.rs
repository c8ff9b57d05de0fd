//! Background work in the same process: a loop per job, each with a one-step function tests call.

use std::time::Duration;

use sea_orm::DatabaseConnection;

/// Submits quiz attempts at their deadline (also when the chair never comes back) and closes quizzes
/// whose time ran out. Safe with several processes: submission is a conditional update.
pub fn spawn_quiz_deadlines(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            match crate::services::quiz::submit_due(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(submitted = n, "attempts submitted at their deadline"),
                Err(e) => tracing::warn!(error = %e, "submitting due attempts failed"),
            }
        }
    });
}

/// Ends live sessions whose moderator forgot to end them (the rule: `services::sessions::end_forgotten`),
/// which tells their rooms, if open in this process. Safe with several processes: the update is
/// conditional.
pub fn spawn_forgotten_sessions(db: DatabaseConnection, rooms: crate::rooms::Rooms) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = crate::services::sessions::end_forgotten(&db, &rooms).await {
                tracing::warn!(error = %e, "ending forgotten sessions failed");
            }
        }
    });
}

/// Finalises recordings left unfinished when their lecture ended without a room (or the process died),
/// moves finished ones to the object store (if configured) and deletes those past their retention;
/// every minute.
pub fn spawn_recordings(
    db: DatabaseConnection,
    files: std::sync::Arc<crate::services::recordings::RecordingFiles>,
    retention_days: u32,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match crate::services::recordings::finalise_orphans(&db, &files).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(recordings = n, "unfinished recordings finalised"),
                Err(e) => tracing::warn!(error = %e, "finalising recordings failed"),
            }
            match crate::services::recordings::upload_finished(&db, &files).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(recordings = n, "recordings moved to the object store"),
                Err(e) => tracing::warn!(error = %e, "uploading recordings failed"),
            }
            if let Err(e) = crate::services::recordings::apply_retention(&db, &files, retention_days).await {
                tracing::warn!(error = %e, "recording retention failed");
            }
        }
    });
}

/// Deletes personal data past its keeping time (`services::privacy::apply_retention`): at start-up,
/// then daily.
pub fn spawn_retention(db: DatabaseConnection, retention: crate::config::RetentionSettings) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            if let Err(e) = crate::services::privacy::apply_retention(&db, &retention, chrono::Utc::now()).await {
                tracing::warn!(error = %e, "retention failed");
            }
        }
    });
}

/// Drains the certificate email outbox every few seconds.
pub fn spawn_email_worker(db: DatabaseConnection, outbox: crate::services::certificates::Outbox) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3));
        loop {
            tick.tick().await;
            loop {
                match crate::services::certificates::send_due(&db, &outbox, 50).await {
                    Ok(50) => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "email outbox step failed");
                        break;
                    }
                }
            }
        }
    });
}

/// Drains the SMS outbox every second (a sign-in code is awaited by someone holding her phone), and
/// forgets old codes now and then.
pub fn spawn_sms_worker(db: DatabaseConnection, sender: crate::sms::SmsSender) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            if let Err(e) = crate::services::accounts::sms_signin::send_due(&db, &sender, 20).await {
                tracing::warn!(error = %e, "SMS outbox step failed");
            }
            if ticks.is_multiple_of(600)
                && let Err(e) = crate::services::accounts::sms_signin::forget_old_codes(&db).await
            {
                tracing::warn!(error = %e, "forgetting old sign-in codes failed");
            }
        }
    });
}
