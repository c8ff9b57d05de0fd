//! Messages between the room page and the server, as JSON over the room's WebSocket.

use serde::{Deserialize, Serialize};

use super::sfu::Source;

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Every few seconds: attendance knows the person is still there, and the server answers `pong` at
    /// once, so a page whose socket went quiet (a half-open connection) notices and reconnects.
    Heartbeat,
    /// Ask for the viewer leg (the server answers with an offer).
    Subscribe {
        #[serde(default)]
        audio_only: bool,
    },
    /// Stop or resume video for a weak network.
    AudioOnly {
        on: bool,
    },
    /// Ask for a publisher leg (lecturers: camera or screen; chairs allowed to speak: mic). With the
    /// browser's offer (`sdp`, the room page: it may publish the camera in simulcast layers) the
    /// server answers; without one the server makes the offer.
    Publish {
        source: Source,
        #[serde(default)]
        sdp: Option<String>,
    },
    Unpublish {
        source: Source,
    },
    /// The browser's answer to an offer for `leg` ("view", "camera", "screen", "mic").
    Answer {
        leg: String,
        sdp: String,
    },
    Chat {
        text: String,
    },
    RaiseHand,
    LowerHand,
    // Moderators:
    RemoveChat {
        id: i64,
    },
    AllowSpeak {
        person: i64,
    },
    RevokeSpeak {
        person: i64,
    },
    Mute {
        person: i64,
    },
    Unmute {
        person: i64,
    },
    Remove {
        person: i64,
    },
    Start,
    End,
    /// Pause (`on: false`) or resume the recording.
    Record {
        on: bool,
    },
}

impl ClientMsg {
    /// The command's name for spans and logs (never its content: chat text is personal).
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMsg::Heartbeat => "heartbeat",
            ClientMsg::Subscribe { .. } => "subscribe",
            ClientMsg::AudioOnly { .. } => "audio_only",
            ClientMsg::Publish { .. } => "publish",
            ClientMsg::Unpublish { .. } => "unpublish",
            ClientMsg::Answer { .. } => "answer",
            ClientMsg::Chat { .. } => "chat",
            ClientMsg::RaiseHand => "raise_hand",
            ClientMsg::LowerHand => "lower_hand",
            ClientMsg::RemoveChat { .. } => "remove_chat",
            ClientMsg::AllowSpeak { .. } => "allow_speak",
            ClientMsg::RevokeSpeak { .. } => "revoke_speak",
            ClientMsg::Mute { .. } => "mute",
            ClientMsg::Unmute { .. } => "unmute",
            ClientMsg::Remove { .. } => "remove",
            ClientMsg::Start => "start",
            ClientMsg::End => "end",
            ClientMsg::Record { .. } => "record",
        }
    }

    /// Whether the command needs more than a viewer's rights (moderating, or publishing camera or
    /// screen): such commands are checked against the sender's current roles before they reach the room.
    pub fn needs_staff(&self) -> bool {
        match self {
            ClientMsg::Publish { source, .. } => *source != Source::Mic,
            ClientMsg::RemoveChat { .. }
            | ClientMsg::AllowSpeak { .. }
            | ClientMsg::RevokeSpeak { .. }
            | ClientMsg::Mute { .. }
            | ClientMsg::Unmute { .. }
            | ClientMsg::Remove { .. }
            | ClientMsg::Start
            | ClientMsg::End
            | ClientMsg::Record { .. } => true,
            ClientMsg::Heartbeat
            | ClientMsg::Subscribe { .. }
            | ClientMsg::AudioOnly { .. }
            | ClientMsg::Unpublish { .. }
            | ClientMsg::Answer { .. }
            | ClientMsg::Chat { .. }
            | ClientMsg::RaiseHand
            | ClientMsg::LowerHand => false,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonOut {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
    pub hand: bool,
    pub speaking: bool,
    pub muted: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatOut {
    pub id: i64,
    pub person: i64,
    pub name: String,
    pub text: String,
    /// Shanghai time, HH:MM.
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttendanceOut {
    pub person: i64,
    pub name: String,
    pub minutes: i64,
    pub present: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    Welcome {
        you: i64,
        role: &'static str,
        status: &'static str,
        people: Vec<PersonOut>,
        chat: Vec<ChatOut>,
        hands: Vec<i64>,
        can_speak: bool,
        /// The open quiz's entry page, for a chair arriving or reconnecting while it runs.
        #[serde(skip_serializing_if = "Option::is_none")]
        quiz: Option<String>,
    },
    Status {
        status: &'static str,
    },
    People {
        people: Vec<PersonOut>,
    },
    Chat {
        message: ChatOut,
    },
    ChatRemoved {
        id: i64,
    },
    Hands {
        queue: Vec<i64>,
    },
    /// To a chair: you may (or may no longer) speak.
    Speak {
        allowed: bool,
    },
    Muted {
        muted: bool,
    },
    /// Your publisher leg for `source` was closed (someone else took the slot, or you were stopped).
    Unpublished {
        source: Source,
    },
    Removed,
    Offer {
        leg: String,
        sdp: String,
    },
    /// The server's answer to the page's offer for a publisher leg.
    Answer {
        leg: String,
        sdp: String,
    },
    Attendance {
        rows: Vec<AttendanceOut>,
    },
    /// The in-class quiz is open: the room page shows it inside the room.
    Quiz {
        url: String,
    },
    /// For moderators while the quiz runs.
    QuizCounter {
        present: usize,
        started: u64,
        submitted: u64,
        passed: u64,
    },
    Error {
        message: String,
    },
    /// To a sender who chats too fast: the message was neither sent nor stored; wait this long.
    ChatWait {
        seconds: u64,
    },
    /// The answer to a heartbeat (pages cannot see WebSocket protocol pings).
    Pong,
    /// Fresh ICE servers for the media legs this page opens from now on (time-limited TURN credentials
    /// minted at each join: a page left open for hours, or reconnecting, does not use expired ones).
    Ice {
        servers: serde_json::Value,
    },
    /// A media leg of yours changed state: `down` (no packets for a couple of seconds: the page says
    /// 重新连接中), `up` (flowing again), `failed` (closed by the server: ask for a fresh leg).
    Leg {
        leg: String,
        state: &'static str,
    },
    /// Her link cannot carry even the lowest video (`on: true`): only sound comes until it recovers,
    /// then video returns by itself (`on: false`). Her own audio-only switch is separate.
    AutoAudioOnly {
        on: bool,
    },
    /// The server is restarting: reconnect in a moment (the room's state is kept).
    Restarting,
    /// The recording's state: `recording` (录制中), `paused`, or `off` (not recorded).
    Recording {
        state: &'static str,
    },
    /// Your role in the room changed (an admin changed your roles or streets): the page reloads to
    /// show the controls of the new role.
    Role {
        role: &'static str,
    },
}
