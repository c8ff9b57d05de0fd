//! The node registry, room leases and the commands left for a room's owner (`nodes`, `room_leases`,
//! `room_commands`): what several app processes on one database share about live rooms.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{node, room_command, room_lease};
use crate::domain::placement::{Lease, Node};

/// What a node says about itself when it starts.
pub struct NodeInfo<'a> {
    pub id: &'a str,
    pub url: &'a str,
    pub media_address: &'a str,
}

/// Registers a node (again, after a restart): not draining, no load yet.
pub async fn register(db: &impl ConnectionTrait, info: &NodeInfo<'_>, now: DateTime<Utc>) -> Result<(), DbErr> {
    node::Entity::insert(node::ActiveModel {
        id: Set(info.id.to_string()),
        url: Set(info.url.to_string()),
        media_address: Set(info.media_address.to_string()),
        rooms: Set(0),
        viewers: Set(0),
        draining: Set(false),
        started_at: Set(now),
        heartbeat_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(node::Column::Id)
            .update_columns([
                node::Column::Url,
                node::Column::MediaAddress,
                node::Column::Rooms,
                node::Column::Viewers,
                node::Column::Draining,
                node::Column::StartedAt,
                node::Column::HeartbeatAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A heartbeat with the node's load; false when its row is gone (it must register again).
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    id: &str,
    rooms: i32,
    viewers: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = node::Entity::update_many()
        .col_expr(node::Column::Rooms, Expr::value(rooms))
        .col_expr(node::Column::Viewers, Expr::value(viewers))
        .col_expr(node::Column::HeartbeatAt, Expr::value(now))
        .filter(node::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The node is being stopped: it takes no new rooms.
pub async fn set_draining(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    node::Entity::update_many()
        .col_expr(node::Column::Draining, Expr::value(true))
        .filter(node::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A node that stopped cleanly leaves the registry.
pub async fn deregister(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    node::Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

/// Forgets nodes silent since before `cutoff` (killed, never restarted under the same id).
pub async fn forget_silent(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(node::Entity::delete_many()
        .filter(node::Column::HeartbeatAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// Every registered node, alive or not (the rules in `domain::placement` tell).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Node>, DbErr> {
    Ok(node::Entity::find()
        .order_by_asc(node::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Node {
            id: m.id,
            url: m.url,
            rooms: m.rooms,
            viewers: m.viewers,
            draining: m.draining,
            heartbeat_at: m.heartbeat_at,
        })
        .collect())
}

fn to_lease(m: room_lease::Model) -> Lease {
    Lease {
        session: m.session_id,
        node: m.node_id,
        epoch: m.epoch,
        expires_at: m.expires_at,
    }
}

pub async fn lease(db: &impl ConnectionTrait, session: i64) -> Result<Option<Lease>, DbErr> {
    Ok(room_lease::Entity::find_by_id(session).one(db).await?.map(to_lease))
}

/// Takes a session's room for `node`: a first lease, or over the one read at `epoch`. False when
/// another node got there first (read the lease again).
pub async fn take(
    db: &impl ConnectionTrait,
    session: i64,
    seen: Option<&Lease>,
    node: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(seen) = seen else {
        let r = room_lease::Entity::insert(room_lease::ActiveModel {
            session_id: Set(session),
            node_id: Set(node.to_string()),
            epoch: Set(1),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::column(room_lease::Column::SessionId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        return Ok(r == 1);
    };
    let r = room_lease::Entity::update_many()
        .col_expr(room_lease::Column::NodeId, Expr::value(node))
        .col_expr(room_lease::Column::Epoch, Expr::value(seen.epoch + 1))
        .col_expr(room_lease::Column::ExpiresAt, Expr::value(expires_at))
        .filter(room_lease::Column::SessionId.eq(session))
        .filter(room_lease::Column::Epoch.eq(seen.epoch))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Renews the leases `node` still holds among `sessions`; returns the sessions it holds now (a room
/// missing from the answer was taken over while this node could not renew it).
pub async fn renew(
    db: &impl ConnectionTrait,
    node: &str,
    sessions: &[i64],
    expires_at: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    room_lease::Entity::update_many()
        .col_expr(room_lease::Column::ExpiresAt, Expr::value(expires_at))
        .filter(room_lease::Column::NodeId.eq(node))
        .filter(room_lease::Column::SessionId.is_in(sessions.iter().copied()))
        .exec(db)
        .await?;
    Ok(room_lease::Entity::find()
        .filter(room_lease::Column::NodeId.eq(node))
        .filter(room_lease::Column::SessionId.is_in(sessions.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.session_id)
        .collect())
}

/// Leaves a command for the node hosting `session`'s room; its id.
pub async fn push_command(
    db: &impl ConnectionTrait,
    node: &str,
    session: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    Ok(room_command::ActiveModel {
        node_id: Set(node.to_string()),
        session_id: Set(session),
        body: Set(body.to_string()),
        reply: Set(None),
        done: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

/// A command waiting for its node.
pub struct PendingCommand {
    pub id: i64,
    pub session: i64,
    pub body: String,
}

/// The commands left for `node`, oldest first.
pub async fn pending(db: &impl ConnectionTrait, node: &str) -> Result<Vec<PendingCommand>, DbErr> {
    Ok(room_command::Entity::find()
        .filter(room_command::Column::NodeId.eq(node))
        .filter(room_command::Column::Done.eq(false))
        .order_by_asc(room_command::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| PendingCommand {
            id: m.id,
            session: m.session_id,
            body: m.body,
        })
        .collect())
}

/// Marks a command carried out, with the answer its sender waits for (if it asked something).
pub async fn done(db: &impl ConnectionTrait, id: i64, reply: Option<String>) -> Result<(), DbErr> {
    room_command::Entity::update_many()
        .col_expr(room_command::Column::Done, Expr::value(true))
        .col_expr(room_command::Column::Reply, Expr::value(reply))
        .filter(room_command::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A command's answer once its node has carried it out (`Some(None)`: done, no answer).
pub async fn reply(db: &impl ConnectionTrait, id: i64) -> Result<Option<Option<String>>, DbErr> {
    Ok(room_command::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| m.done)
        .map(|m| m.reply))
}

pub async fn delete_command(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    room_command::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Commands carried out, or left for a node that never came for them, before `cutoff`.
pub async fn purge_commands(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(room_command::Entity::delete_many()
        .filter(room_command::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
