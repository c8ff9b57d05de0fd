//! What every handler can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// Signs CSRF tokens.
    pub csrf_key: Arc<Vec<u8>>,
    pub rooms: crate::rooms::Rooms,
    /// Recording files: this node's folder and the object store.
    pub recordings: Arc<crate::services::recordings::RecordingFiles>,
}
