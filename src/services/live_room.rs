//! The one interface between the use cases and live rooms: sessions and the quiz tell the room what
//! changed, and ask it who is there, without knowing how rooms work (`rooms::Rooms` implements it).

use super::ServiceError;
use crate::domain::session::SessionStatus;

/// A session's live room as the use cases see it: who is connected, and what it must be told when the
/// session or its quiz changes. Implemented by `rooms::Rooms`; `NoRoom` where nobody can be connected
/// (tools, tests).
/// With several nodes the room may be on another one: these reach it through the database, so they
/// are awaited (a command is stored before the moderator's request returns).
pub trait LiveRoom {
    /// The chairs connected to the session's room now; refused when the node hosting the room does
    /// not answer.
    fn present_chairs(&self, session: i64) -> impl Future<Output = Result<Vec<i64>, ServiceError>>;
    /// The session's status changed (it is stored already).
    fn status_changed(&self, session: i64, status: SessionStatus) -> impl Future<Output = ()>;
    /// The quiz opened (its attempts for the present chairs exist already).
    fn quiz_opened(&self, session: i64, quiz: i64) -> impl Future<Output = ()>;
    /// The quiz closed.
    fn quiz_closed(&self, session: i64, quiz: i64) -> impl Future<Output = ()>;
}

/// A room with these chairs in it and nobody to tell: for tools and tests that drive the use cases
/// without a live room.
#[derive(Debug, Clone, Default)]
pub struct NoRoom {
    pub present: Vec<i64>,
}

impl LiveRoom for NoRoom {
    async fn present_chairs(&self, _: i64) -> Result<Vec<i64>, ServiceError> {
        Ok(self.present.clone())
    }
    async fn status_changed(&self, _: i64, _: SessionStatus) {}
    async fn quiz_opened(&self, _: i64, _: i64) {}
    async fn quiz_closed(&self, _: i64, _: i64) {}
}
