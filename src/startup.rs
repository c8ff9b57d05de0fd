//! Builds the application from settings: database, migrations, demo data, the HTTP server bound to its
//! port (port 0 picks a free one, for tests). `run_until_stopped` serves until SIGINT/SIGTERM, then
//! drains in-flight requests (graceful shutdown).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_multipart::form::MultipartFormConfig;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::web::state::AppState;
use crate::{db, services, web as web_layer};

pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    rooms: crate::rooms::Rooms,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = prepare_database(&settings).await?;
        let csrf_key = csrf_key(&settings)?;
        let listener = bind(&settings)?;
        let port = listener.local_addr()?.port();
        let rooms = crate::rooms::Rooms::new(
            db.clone(),
            media_config(&settings),
            settings.rooms.media_threads,
            web_layer::urls::quiz,
            settings
                .recordings
                .enabled
                .then(|| crate::rooms::recorder::RecordingConfig {
                    dir: settings.recordings_dir(),
                    node: settings.cluster.node_id.clone(),
                }),
            cluster_config(&settings),
        );
        rooms.start_cluster().await?;
        let retention_days = settings.recordings.retention_days;
        let retention = settings.retention.clone();
        let recordings = Arc::new(recording_files(&settings)?);
        let outbox = outbox_for(&settings)?;
        let email_worker = settings.email.worker;
        let sms = crate::sms::SmsSender::from_settings(&settings.sms, &settings.paths.var_dir)?;
        let sms_worker = settings.sms.worker;
        let (workers, shutdown) = (workers(&settings), settings.server.shutdown_timeout_secs);
        let state = web::Data::new(AppState {
            db: db.clone(),
            settings: Arc::new(settings),
            csrf_key: Arc::new(csrf_key),
            rooms: rooms.clone(),
            recordings: recordings.clone(),
        });
        // Signals are ours (`run_until_stopped`): rooms must tell their pages before the server stops.
        let server = HttpServer::new(move || app(state.clone()))
            .workers(workers)
            .shutdown_timeout(shutdown)
            .disable_signals()
            .listen(listener)?
            .run();
        spawn_session_cleanup(db.clone());
        crate::jobs::spawn_quiz_deadlines(db.clone());
        crate::jobs::spawn_forgotten_sessions(db.clone(), rooms.clone());
        crate::jobs::spawn_recordings(db.clone(), recordings, retention_days);
        crate::jobs::spawn_retention(db.clone(), retention);
        if email_worker {
            crate::jobs::spawn_email_worker(db.clone(), outbox);
        }
        if sms_worker {
            crate::jobs::spawn_sms_worker(db.clone(), sms);
        }
        tracing::info!(port, "listening");
        Ok(Application {
            port,
            server,
            db,
            rooms,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until SIGINT or SIGTERM (the `serve` command).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(stop_signal()).await
    }

    /// Serves until `stop` completes. Then the server stops accepting, the live rooms tell their pages
    /// it is restarting (the pages reconnect as soon as it is back, instead of waiting out a back-off),
    /// their sockets close, and in-flight requests drain: a restart takes a couple of seconds, not the
    /// shutdown timeout spent waiting on open WebSockets. Tests pass a future that never completes: a
    /// test process must not trade Ctrl-C for stopping every app it started.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let handle = self.server.handle();
        let rooms = self.rooms;
        tokio::spawn(async move {
            stop.await;
            tracing::info!("stopping: telling live rooms");
            // No new sockets: one opened now would miss the notice and hold the shutdown up.
            handle.pause().await;
            // With other nodes the rooms are handed over first, so the pages find them there.
            rooms.restarting().await;
            // Long enough for the rooms to reach their sockets and record the leaves.
            tokio::time::sleep(Duration::from_millis(500)).await;
            // Before the server stops: once it has, the process may end at any moment.
            rooms.stopped().await;
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM (systemd, docker, kill).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Connects, migrates, loads the banks and (if configured) the demo data, and repairs what a crash
/// can leave behind.
async fn prepare_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = db::connect(settings).await?;
    db::migrate(&db).await?;
    // A bank with errors is refused (and its problems recorded); the service still starts. In
    // production the sample banks' questions wait for a lawyer's approval before they are drawn.
    let samples = match settings.environment {
        crate::config::Environment::Production => services::banks::SampleBanks::AwaitLawyer,
        crate::config::Environment::Development => services::banks::SampleBanks::ApprovedByFile,
    };
    services::banks::sync_dir_with(&db, &settings.paths.banks_dir, samples).await?;
    if settings.demo.seed && services::demo::seed_if_empty(&db).await? {
        print_demo_signins(settings);
    }
    crate::db::sessions::ensure_invite_tokens(&db, services::tokens::new_token).await?;
    // Attendance left open by a crash or a killed process ends at its last heartbeat.
    crate::db::sessions::close_stale_intervals(&db, chrono::Utc::now() - chrono::Duration::minutes(2)).await?;
    Ok(db)
}

fn bind(settings: &Settings) -> anyhow::Result<TcpListener> {
    let (host, port) = (settings.server.host.as_str(), settings.server.port);
    TcpListener::bind((host, port)).map_err(|e| anyhow::anyhow!("cannot listen on {host}:{port}: {e}"))
}

fn workers(settings: &Settings) -> usize {
    match settings.server.workers {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
        n => n,
    }
}

/// The recordings folder, and the object store when `recordings.store = "s3"` (its bucket created if
/// missing, so a misconfigured store stops the start-up rather than the first upload).
fn recording_files(settings: &Settings) -> anyhow::Result<crate::services::recordings::RecordingFiles> {
    let store = crate::storage::S3Store::from_settings(&settings.recordings).map_err(anyhow::Error::msg)?;
    if let Some(s) = &store {
        s.ensure_bucket()?;
    }
    Ok(crate::services::recordings::RecordingFiles {
        dir: settings.recordings_dir(),
        store: store.map(Arc::new),
        several_nodes: settings.cluster.node_id.is_some(),
    })
}

/// This node among several (`[cluster]`), or `None` for a single process.
fn cluster_config(settings: &Settings) -> Option<crate::rooms::cluster::ClusterConfig> {
    let c = &settings.cluster;
    let node_id = c.node_id.clone()?;
    let media = settings.rooms.public_ip.unwrap_or(settings.rooms.bind_ip);
    Some(crate::rooms::cluster::ClusterConfig {
        node_id,
        node_url: c.node_url.clone()?.trim_end_matches('/').to_string(),
        media_address: media.to_string(),
        lease: Duration::from_secs(c.lease_secs),
    })
}

fn media_config(settings: &Settings) -> crate::rooms::sfu::MediaConfig {
    crate::rooms::sfu::MediaConfig {
        bind_ip: settings.rooms.bind_ip,
        port_min: settings.rooms.udp_port_min,
        port_max: settings.rooms.udp_port_max,
        public_ip: settings.rooms.public_ip,
        viewer_loops: settings.rooms.viewer_sockets.unwrap_or(settings.rooms.media_threads),
    }
}

/// One worker's app: limits on request bodies, the middleware (outermost last) and the routes.
fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(
            MultipartFormConfig::default()
                .total_limit(services::roster::MAX_FILE_BYTES + 64 * 1024)
                .memory_limit(services::roster::MAX_FILE_BYTES + 64 * 1024)
                .error_handler(web_layer::multipart_error),
        )
        .app_data(web::FormConfig::default().limit(64 * 1024))
        .app_data(web::PayloadConfig::default().limit(web_layer::FORM_MAX_BYTES))
        .wrap(from_fn(web_layer::context::load_context))
        .wrap(from_fn(web_layer::render_errors))
        .wrap(from_fn(web_layer::trace_requests))
        .wrap(from_fn(web_layer::headers::security_headers))
        .wrap(Compress::default())
        .configure(web_layer::configure)
        .default_service(web::to(web_layer::not_found))
}

/// The email outbox as configured (SMTP, or .eml files in a folder).
pub fn outbox_for(settings: &Settings) -> anyhow::Result<crate::services::certificates::Outbox> {
    Ok(crate::services::certificates::Outbox {
        mailer: crate::email::Mailer::from_settings(&settings.email, &settings.paths.var_dir)?,
        public_url: settings.public_url(),
        message_id_domain: settings.email.message_id_domain.clone(),
        worker: format!(
            "{}-{}",
            std::process::id(),
            services::tokens::new_token().chars().take(6).collect::<String>()
        ),
    })
}

/// The key that signs CSRF tokens: from settings, or (development) a random key kept in `var/` so
/// that open forms keep working across restarts.
fn csrf_key(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(k) = &settings.security.secret_key {
        return Ok(k.expose_secret().as_bytes().to_vec());
    }
    let path = settings.paths.var_dir.join("dev-secret-key");
    if let Ok(k) = std::fs::read(&path)
        && k.len() >= 32
    {
        return Ok(k);
    }
    std::fs::create_dir_all(&settings.paths.var_dir)?;
    let key = services::tokens::new_token().into_bytes();
    std::fs::write(&path, &key).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    Ok(key)
}

fn spawn_session_cleanup(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = db::web_sessions::delete_expired(&db, chrono::Utc::now()).await {
                tracing::warn!(error = %e, "deleting expired sessions failed");
            }
        }
    });
}

/// Printed (not logged): these are demo credentials for the person at the terminal.
fn print_demo_signins(settings: &Settings) {
    use services::demo::{DEMO_PASSWORD, DEMO_SIGNINS};
    println!(
        "\n演示数据已创建 / Demo data seeded. Open {} and sign in with:",
        settings.public_url()
    );
    for s in DEMO_SIGNINS {
        println!("  {:<10} {:<8} {}  / {DEMO_PASSWORD}", s.role.code(), s.name, s.phone);
    }
    println!();
}
