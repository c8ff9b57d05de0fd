//! The audit trail of privileged actions: what each entry says, how entries are chained by hashes so
//! that changing, removing or reordering one is evident, and how a chain is checked.
//!
//! An entry's hash is SHA-256 over its fields and the previous entry's hash, each field on its own
//! line in a fixed order (`Entry::canonical`). The first entry follows a hash of 64 zeros.

use chrono::{DateTime, SubsecRound, Utc};

use super::hex;

/// The hash the first entry follows.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A privileged action, as the trail names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SessionSchedule,
    SessionEdit,
    SessionCancel,
    SessionStart,
    SessionEnd,
    QuizSettings,
    QuizOpen,
    QuizClose,
    MakeupWindow,
    ParticipantRemove,
    RecordingDelete,
    RosterImport,
    SigninLinks,
    CertificateResend,
    CertificateRevoke,
    ExportDownload,
    EvidenceDownload,
    BankCreate,
    BankImport,
    QuestionEdit,
    QuestionSubmit,
    QuestionApprove,
    QuestionSendBack,
    QuestionConfirm,
    QuestionRegrade,
    StatuteUpload,
    AccountCreate,
    AccountUpdate,
    PersonErase,
    OrgCreate,
    OrgUpdate,
    OrgDelete,
}

impl Action {
    pub const ALL: [Action; 32] = [
        Action::SessionSchedule,
        Action::SessionEdit,
        Action::SessionCancel,
        Action::SessionStart,
        Action::SessionEnd,
        Action::QuizSettings,
        Action::QuizOpen,
        Action::QuizClose,
        Action::MakeupWindow,
        Action::ParticipantRemove,
        Action::RecordingDelete,
        Action::RosterImport,
        Action::SigninLinks,
        Action::CertificateResend,
        Action::CertificateRevoke,
        Action::ExportDownload,
        Action::EvidenceDownload,
        Action::BankCreate,
        Action::BankImport,
        Action::QuestionEdit,
        Action::QuestionSubmit,
        Action::QuestionApprove,
        Action::QuestionSendBack,
        Action::QuestionConfirm,
        Action::QuestionRegrade,
        Action::StatuteUpload,
        Action::AccountCreate,
        Action::AccountUpdate,
        Action::PersonErase,
        Action::OrgCreate,
        Action::OrgUpdate,
        Action::OrgDelete,
    ];

    /// The stable code stored and hashed (never changes once entries carry it).
    pub fn code(self) -> &'static str {
        self.labels().0
    }

    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    /// (code, Chinese, English).
    fn labels(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Action::SessionSchedule => ("session.schedule", "安排培训", "schedule a session"),
            Action::SessionEdit => ("session.edit", "修改培训", "edit a session"),
            Action::SessionCancel => ("session.cancel", "取消培训", "cancel a session"),
            Action::SessionStart => ("session.start", "开始培训", "start a session"),
            Action::SessionEnd => ("session.end", "结束培训", "end a session"),
            Action::QuizSettings => ("quiz.settings", "设置测验", "set the quiz"),
            Action::QuizOpen => ("quiz.open", "开放测验", "open the quiz"),
            Action::QuizClose => ("quiz.close", "结束测验", "close the quiz"),
            Action::MakeupWindow => ("quiz.makeup", "开放回看补测", "open the make-up window"),
            Action::ParticipantRemove => ("room.remove", "移出参会者", "remove a participant"),
            Action::RecordingDelete => ("recording.delete", "删除录像", "delete a recording"),
            Action::RosterImport => ("roster.import", "导入名单", "import a roster"),
            Action::SigninLinks => ("signin.links", "生成登录链接", "make sign-in links"),
            Action::CertificateResend => ("certificate.resend", "重发证书", "resend a certificate"),
            Action::CertificateRevoke => ("certificate.revoke", "撤销证书", "revoke a certificate"),
            Action::ExportDownload => ("export.download", "下载导出", "download an export"),
            Action::EvidenceDownload => ("evidence.download", "下载存档包", "download an evidence pack"),
            Action::BankCreate => ("bank.create", "新建题库", "create a bank"),
            Action::BankImport => ("bank.import", "导入题目", "import questions"),
            Action::QuestionEdit => ("question.edit", "编辑题目", "edit a question"),
            Action::QuestionSubmit => ("question.submit", "提交审核", "submit a question"),
            Action::QuestionApprove => ("question.approve", "批准题目", "approve a question"),
            Action::QuestionSendBack => ("question.return", "退回题目", "send a question back"),
            Action::QuestionConfirm => ("question.confirm", "复核题目", "re-confirm a question"),
            Action::QuestionRegrade => ("question.regrade", "重新评分", "regrade a question"),
            Action::StatuteUpload => ("statute.upload", "上传法规修订", "upload a statute revision"),
            Action::AccountCreate => ("account.create", "新建账号", "create an account"),
            Action::AccountUpdate => ("account.update", "修改账号", "change an account"),
            Action::PersonErase => ("person.erase", "删除个人信息", "erase a person's information"),
            Action::OrgCreate => ("org.create", "新建组织", "create an organisation unit"),
            Action::OrgUpdate => ("org.update", "修改组织", "change an organisation unit"),
            Action::OrgDelete => ("org.delete", "删除组织", "delete an organisation unit"),
        }
    }

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        let (_, zh, en) = self.labels();
        lang.t(zh, en)
    }
}

/// Who did it, to what, and from where: an entry's fields besides its action and chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub actor_id: Option<i64>,
    /// What was acted on, as `kind:id` (`session:12`, `question:7`…).
    pub object: String,
    /// The change in a few words: ids, counts and field names, no personal data beyond what the
    /// action needs (never a phone number, an email, a code or a token).
    pub summary: String,
    /// The client's address as the server saw it (behind the proxy when configured so).
    pub address: String,
}

/// An entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The stored action code (an unknown code, from a newer version, is kept as it is).
    pub action: String,
    pub record: Record,
    pub prev_hash: String,
    pub hash: String,
}

/// Timestamps are hashed and stored to the microsecond, which both databases keep exactly.
pub fn entry_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// The text an entry's hash covers.
fn canonical(seq: i64, at: DateTime<Utc>, action: &str, r: &Record, prev_hash: &str) -> String {
    format!(
        "{seq}\n{}\n{}\n{action}\n{}\n{}\n{}\n{prev_hash}",
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        r.actor_id.map(|a| a.to_string()).unwrap_or_default(),
        r.object,
        r.summary.replace('\n', " "),
        r.address
    )
}

/// The hash of an entry with these fields following `prev_hash`.
pub fn hash(seq: i64, at: DateTime<Utc>, action: &str, r: &Record, prev_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(canonical(seq, at, action, r, prev_hash).as_bytes()))
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// This entry's hash does not match its fields: it was changed.
    Altered { seq: i64 },
    /// This entry does not follow the one before it: entries were removed, inserted or reordered.
    Unlinked { seq: i64 },
    /// The last entry is not the one the head records: entries were removed from the end.
    Truncated { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Altered { seq } => write!(f, "entry {seq} was altered: its hash does not match its fields"),
            Broken::Unlinked { seq } => write!(f, "entry {seq} does not follow the entry before it"),
            Broken::Truncated { head_seq, last_seq } => write!(
                f,
                "the head records entry {head_seq} as the last, but the last entry is {last_seq}"
            ),
        }
    }
}

/// Checks entries in sequence order, continuing from `(prev_seq, prev_hash)` (0 and `GENESIS` for the
/// start): each follows the previous and hashes to what it records. Returns the last (seq, hash).
pub fn check<'a>(entries: impl IntoIterator<Item = &'a Entry>, from: (i64, String)) -> Result<(i64, String), Broken> {
    let (mut seq, mut prev) = from;
    for e in entries {
        if e.seq != seq + 1 || e.prev_hash != prev {
            return Err(Broken::Unlinked { seq: e.seq });
        }
        if hash(e.seq, e.at, &e.action, &e.record, &e.prev_hash) != e.hash {
            return Err(Broken::Altered { seq: e.seq });
        }
        seq = e.seq;
        prev = e.hash.clone();
    }
    Ok((seq, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        let mut prev = GENESIS.to_string();
        for seq in 1..=n {
            let at = entry_time(Utc::now());
            let record = Record {
                actor_id: Some(7),
                object: format!("session:{seq}"),
                summary: "开始".into(),
                address: "10.0.0.1".into(),
            };
            let h = hash(seq, at, Action::SessionStart.code(), &record, &prev);
            out.push(Entry {
                seq,
                at,
                action: Action::SessionStart.code().into(),
                record,
                prev_hash: prev.clone(),
                hash: h.clone(),
            });
            prev = h;
        }
        out
    }

    #[test]
    fn an_intact_chain_checks_and_any_change_breaks_it() {
        let c = chain(5);
        assert_eq!(check(&c, (0, GENESIS.into())).map(|(s, _)| s), Ok(5));
        let mut altered = c.clone();
        altered[2].record.summary = "改过".into();
        assert_eq!(check(&altered, (0, GENESIS.into())), Err(Broken::Altered { seq: 3 }));
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(check(&removed, (0, GENESIS.into())), Err(Broken::Unlinked { seq: 3 }));
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert!(check(&swapped, (0, GENESIS.into())).is_err());
        // Re-hashing the changed entry alone does not help: the next one no longer follows it.
        let mut rehashed = c;
        rehashed[2].record.address = "10.9.9.9".into();
        let e = &rehashed[2];
        rehashed[2].hash = hash(e.seq, e.at, &e.action, &e.record, &e.prev_hash);
        assert_eq!(check(&rehashed, (0, GENESIS.into())), Err(Broken::Unlinked { seq: 4 }));
    }

    #[test]
    fn action_codes_read_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
        }
    }
}
