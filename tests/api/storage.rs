//! Recordings in an S3-compatible object store (several nodes). These need a store: `.ci/run` starts
//! SeaweedFS (from PyPI) and runs them with `QUORUM_TEST_S3_ENDPOINT`; by hand:
//! `QUORUM_TEST_S3_ENDPOINT=http://127.0.0.1:8333 cargo test --test api storage -- --ignored`.

use quorum::config::RecordingSettings;
use quorum::domain::person::Role;
use quorum::storage::S3Store;
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;

use crate::helpers::*;

fn store_settings(bucket: &str) -> RecordingSettings {
    let endpoint = std::env::var("QUORUM_TEST_S3_ENDPOINT").expect("QUORUM_TEST_S3_ENDPOINT (see the module comment)");
    RecordingSettings {
        enabled: true,
        dir: None,
        retention_days: 0,
        store: "s3".into(),
        s3_endpoint: Some(endpoint),
        s3_bucket: Some(bucket.into()),
        s3_region: Some("us-east-1".into()),
        s3_access_key: Some(std::env::var("QUORUM_TEST_S3_KEY").unwrap_or_else(|_| "quorum".into())),
        s3_secret_key: Some(SecretString::from(
            std::env::var("QUORUM_TEST_S3_SECRET").unwrap_or_else(|_| "quorum-secret".into()),
        )),
    }
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
#[ignore = "needs an S3-compatible server (QUORUM_TEST_S3_ENDPOINT); .ci/run starts one"]
async fn a_recording_goes_to_the_store_in_parts_and_comes_back_by_range() {
    let store = S3Store::from_settings(&store_settings("quorum-store-test"))
        .unwrap()
        .unwrap();
    store.ensure_bucket().unwrap();
    store.ensure_bucket().unwrap(); // an existing bucket is fine
    let dir = std::env::temp_dir().join(format!("quorum-s3-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // 20 MiB: two parts of the 16 MiB part size.
    let data = bytes(20 * 1024 * 1024 + 123);
    let path = dir.join("lecture.webm");
    std::fs::write(&path, &data).unwrap();
    store.put_file("recordings/t1.webm", &path, "video/webm").unwrap();
    let from = 16 * 1024 * 1024 - 10;
    let mut got = store
        .get("recordings/t1.webm", Some(&format!("bytes={from}-{}", from + 19)))
        .unwrap();
    assert_eq!(got.status, 206);
    assert_eq!(
        got.content_range.as_deref(),
        Some(format!("bytes {from}-{}/{}", from + 19, data.len()).as_str())
    );
    let mut part = Vec::new();
    std::io::Read::read_to_end(&mut got.body, &mut part).unwrap();
    assert_eq!(part, data[from..from + 20], "the bytes across the part boundary");
    store.delete("recordings/t1.webm").unwrap();
    assert_eq!(store.get("recordings/t1.webm", None).unwrap().status, 404);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
#[ignore = "needs an S3-compatible server (QUORUM_TEST_S3_ENDPOINT); .ci/run starts one"]
async fn a_finished_recording_is_uploaded_served_by_range_to_invited_chairs_and_deleted() {
    let bucket = format!("quorum-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let app = spawn_app_with(|s| s.recordings = store_settings(&bucket)).await;
    let place = make_street(&app, "花木街道").await;
    let lecturer = make_person(&app, "13800000009", &[Role::Lawyer], &[], None).await;
    signed_in_as(&app, "13800000001", &[Role::Official], &[place.street], None).await;
    let r = app
        .schedule_session(&SessionForm::on(
            "录像上传",
            &future_day(),
            "09:00",
            "10:00",
            place.street,
            lecturer,
        ))
        .await;
    let session = id_in(&location(&r));
    // A finished recording as a room leaves it: files on this node, the row saying so.
    let token = "s3testtoken0123456789abcdef";
    let files = app.var_dir().join("recordings");
    std::fs::create_dir_all(&files).unwrap();
    let video = bytes(6 * 1024 * 1024 + 5);
    std::fs::write(files.join(format!("{token}.webm")), &video).unwrap();
    std::fs::write(files.join(format!("{token}.audio.webm")), bytes(1000)).unwrap();
    let backend = app.db.get_database_backend();
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO recordings (session_id, token, state, storage, duration_ms, video_bytes, audio_bytes, started_at, finished_at) \
             VALUES ($1, $2, 'finished', 'local', 60000, 0, 0, $3, $3)",
            [session.into(), token.into(), chrono::Utc::now().into()],
        ))
        .await
        .unwrap();
    let store = S3Store::from_settings(&store_settings(&bucket))
        .unwrap()
        .map(std::sync::Arc::new);
    let f = quorum::services::recordings::RecordingFiles {
        dir: files.clone(),
        store: store.clone(),
        several_nodes: false,
    };
    assert_eq!(
        quorum::services::recordings::upload_finished(&app.db, &f)
            .await
            .unwrap(),
        1
    );
    assert!(
        !files.join(format!("{token}.webm")).exists(),
        "the local copy goes once uploaded"
    );

    // An invited chair's player asks for a range; the node passes it to the store.
    let chair = app.other_browser();
    make_person(&chair, "13900000201", &[Role::Chair], &[], Some(place.committee)).await;
    chair.sign_in("13900000201", PASSWORD).await;
    let r = chair
        .client
        .get(chair.url(&format!("/replay/{token}/video.webm")))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(
        r.headers()["content-range"].to_str().unwrap(),
        format!("bytes 100-199/{}", video.len())
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &video[100..200]);

    // Deleted by the official: gone from the store.
    let r = app
        .post_form(&format!("/sessions/{session}/recording/delete"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap_or_default());
    let store = store.unwrap();
    assert_eq!(
        store.get(&format!("recordings/{token}.webm"), None).unwrap().status,
        404
    );
    assert_eq!(chair.get_status(&format!("/replay/{token}/video.webm")).await, 404);
}
