//! The command line, run as a real process.

use std::process::Command;

fn quorum(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args(args)
        .env(
            "QUORUM__DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.join("cli.db").display()),
        )
        .env("QUORUM__PATHS__VAR_DIR", dir)
        .env("QUORUM__DEMO__SEED", "false")
        .env("QUORUM_ADMIN_PASSWORD", "admin-password-1")
        .env("QUORUM_LOG", "error")
        .output()
        .unwrap()
}

#[tokio::test]
async fn cli_creates_an_admin_and_imports_a_roster_naming_bad_lines() {
    let dir = std::env::temp_dir().join(format!("quorum-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = quorum(&dir, &["create-admin", "--name", "管理员", "--phone", "13900000000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = quorum(&dir, &["create-admin", "--name", "管理员", "--phone", "139"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("phone: a mobile number has 11 digits, this one has 3"));

    // The street must exist: build it through the library on the same file.
    let url = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let d = quorum::services::org::create_unit(&db, None, "浦东新区", None)
        .await
        .unwrap();
    quorum::services::org::create_unit(&db, Some(d.id), "花木街道", None)
        .await
        .unwrap();

    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "姓名,手机号,居委,小区,职务\n张三,13900000001,一居,花园,主任\n,139,一居,花园,主任\n",
    )
    .unwrap();
    let out = quorum(&dir, &["import-roster", bad.to_str().unwrap(), "--street", "花木街道"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3: 姓名: the name is empty"), "{err}");
    assert!(err.contains("bad.csv:3: 手机号:"), "{err}");

    let good = dir.join("good.csv");
    std::fs::write(&good, "姓名,手机号,居委,小区,职务\n张三,13900000001,一居,花园,主任\n").unwrap();
    let out = quorum(&dir, &["import-roster", good.to_str().unwrap(), "--street", "花木街道"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("created 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = quorum(&dir, &["import-roster", good.to_str().unwrap(), "--street", "花木街道"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("created 0, updated 0, unchanged 1"));

    let out = quorum(
        &dir,
        &["import-roster", good.to_str().unwrap(), "--street", "没有这个街道"],
    );
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_setting_stops_startup_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("migrate")
        .env("QUORUM__SERVER__PORT", "not-a-port")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.port"));
}
