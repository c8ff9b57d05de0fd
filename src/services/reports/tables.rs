//! The report tables (what the pages show and the CSV/XLSX exports contain), built in one place so the
//! files always match the page.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::attendance::Interval;
use crate::domain::certificate::CertificateRecord;
use crate::domain::report::{AttemptResult, ChairLine, Dashboard, ItemLine, Rate, RuleMistakes, UnitRow};
use crate::domain::statute::StatuteCoverage;
use crate::domain::time::to_shanghai;
use crate::export::{Cell, Table};
use crate::i18n::Lang;
use crate::services::banks::CitedArticle;

/// A chair's attempt in the results: its state, score and whether she passed.
fn attempt_cells(lang: Lang, attempt: Option<AttemptResult>) -> (String, Cell, String) {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    match attempt {
        None => (t("未参加", "none"), Cell::Text(String::new()), String::new()),
        Some(AttemptResult::InProgress { .. }) => {
            (t("答题中", "in progress"), Cell::Text(String::new()), String::new())
        }
        Some(AttemptResult::Submitted { correct, passed, .. }) => (
            t("已交卷", "submitted"),
            Cell::Number(f64::from(correct)),
            if passed { t("是", "yes") } else { t("否", "no") },
        ),
    }
}

fn chair_row(lang: Lang, l: &ChairLine) -> Vec<Cell> {
    let yes_no = |b: bool| {
        lang.t(if b { "是" } else { "否" }, if b { "yes" } else { "no" })
            .to_string()
    };
    let (state, score, passed) = attempt_cells(lang, l.attempt);
    vec![
        Cell::Text(l.name.clone()),
        Cell::Text(l.neighbourhood.clone()),
        Cell::Text(l.estate.clone()),
        Cell::Number(l.live_minutes as f64),
        Cell::Number(l.replay_minutes as f64),
        Cell::Number(l.minutes as f64),
        Cell::Text(format!("{:.0}%", l.share * 100.0)),
        Cell::Text(yes_no(l.met_gate)),
        Cell::Text(state),
        Cell::Text(if l.attempt.is_some() {
            lang.t(
                if l.makeup { "回看补测" } else { "随堂" },
                if l.makeup { "make-up" } else { "in class" },
            )
            .to_string()
        } else {
            String::new()
        }),
        score,
        Cell::Text(passed),
        Cell::Text(l.email.map(|e| e.label(lang).to_string()).unwrap_or_default()),
    ]
}

pub fn session_table(lang: Lang, lines: &[ChairLine]) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    Table {
        title: t("出勤与成绩", "Attendance and results"),
        headers: vec![
            t("姓名", "Name"),
            t("居委", "Area"),
            t("小区", "Estate"),
            t("直播分钟", "Live minutes"),
            t("回看增加分钟", "Minutes added by replay"),
            t("在场分钟", "Minutes"),
            t("在场比例", "Share"),
            t("达到出勤要求", "Met gate"),
            t("答卷", "Attempt"),
            t("测试方式", "Taken"),
            t("得分", "Score"),
            t("合格", "Passed"),
            t("证书邮件", "Certificate email"),
        ],
        rows: lines.iter().map(|l| chair_row(lang, l)).collect(),
    }
}

pub fn dashboard_table(lang: Lang, d: &Dashboard) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let row = |r: &UnitRow| {
        vec![
            Cell::Text(r.unit.name.clone()),
            Cell::Number(r.chairs as f64),
            Cell::Number(r.submitted as f64),
            Cell::Number(r.passed as f64),
            Cell::Text(r.pass_rate.label(lang)),
            Cell::Number(r.makeup_submitted as f64),
            Cell::Number(r.makeup_passed as f64),
            Cell::Number(r.certified as f64),
            Cell::Text(r.coverage.label(lang)),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = d.rows.iter().map(row).collect();
    let mut total = row(&d.total);
    total[0] = Cell::Text(format!("{}（{}）", d.total.unit.name, t("合计", "total")));
    rows.push(total);
    Table {
        title: t("合格率与覆盖", "Pass rates and coverage"),
        headers: vec![
            t("单位", "Unit"),
            t("主任人数", "Chairs"),
            t("已交卷", "Submitted"),
            t("合格", "Passed"),
            t("合格率", "Pass rate"),
            t("其中回看补测交卷", "Of them, make-up submitted"),
            t("其中回看补测合格", "Of them, make-up passed"),
            t("持有效证书", "Certified"),
            t("覆盖率", "Coverage"),
        ],
        rows,
    }
}

fn item_row(lang: Lang, i: &ItemLine) -> Vec<Cell> {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let pct = |v: Option<f64>| v.map_or_else(|| t("无数据", "no data"), |v| format!("{:.0}%", v * 100.0));
    let choices = i
        .choices
        .iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        Cell::Text(i.qid.clone()),
        Cell::Number(i.version_no as f64),
        Cell::Text(i.bank.clone()),
        Cell::Number(i.stat.drawn as f64),
        Cell::Text(pct(i.stat.facility)),
        i.stat
            .discrimination
            .map_or_else(|| Cell::Text(t("无数据", "no data")), |d| Cell::Decimal(d, 2)),
        Cell::Text(choices),
        Cell::Text(if i.stat.flagged() {
            t("是", "yes")
        } else {
            String::new()
        }),
        Cell::Text(i.citations.join("; ")),
    ]
}

pub fn items_table(lang: Lang, items: &[ItemLine]) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    Table {
        title: t("题目分析", "Item analysis"),
        headers: vec![
            t("题目", "Question"),
            t("版本", "Version"),
            t("题库", "Bank"),
            t("作答次数", "Answered"),
            t("答对率", "Facility"),
            t("区分度", "Discrimination"),
            t("各选项选择次数", "Choices"),
            t("需关注", "Flag"),
            t("法条", "Citations"),
        ],
        rows: items.iter().map(|i| item_row(lang, i)).collect(),
    }
}

/// A time as the evidence files give it: Shanghai, to the second.
fn at(d: DateTime<Utc>) -> String {
    to_shanghai(d).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Every stay in the room: who, from when to when.
/// Every stretch of presence: live (the room, the live audio, the in-class quiz's connection) and the
/// moments of the lecture watched on replay, each marked.
pub fn attendance_table(
    lang: Lang,
    lines: &[ChairLine],
    live: &[(i64, Interval)],
    replay: &[(i64, Interval)],
) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let names: HashMap<i64, &str> = lines.iter().map(|l| (l.person_id, l.name.as_str())).collect();
    let name = |p: &i64| names.get(p).map_or_else(|| format!("#{p}"), |n| n.to_string());
    let row = |how: String| {
        move |(p, i): &(i64, Interval)| {
            vec![
                Cell::Text(name(p)),
                Cell::Text(how.clone()),
                Cell::Text(at(i.from)),
                Cell::Text(at(i.to)),
            ]
        }
    };
    Table {
        title: t("出勤记录", "Attendance"),
        headers: vec![t("姓名", "Name"), t("方式", "How"), t("开始", "From"), t("结束", "To")],
        rows: live
            .iter()
            .map(row(t("直播", "live")))
            .chain(replay.iter().map(row(t("回看（讲课时间）", "replay (lecture time)"))))
            .collect(),
    }
}

fn certificate_row(lang: Lang, c: &CertificateRecord) -> Vec<Cell> {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let status = match &c.revoked_at {
        Some(_) => format!(
            "{}：{}",
            t("已撤销", "revoked"),
            c.revoke_reason.clone().unwrap_or_default()
        ),
        None => t("有效", "valid"),
    };
    vec![
        Cell::Text(c.content.name.clone()),
        Cell::Text(c.serial.clone()),
        Cell::Text(c.code.clone()),
        Cell::Text(at(c.issued_at)),
        Cell::Text(status),
    ]
}

pub fn certificates_table(lang: Lang, certs: &[CertificateRecord]) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    Table {
        title: t("证书", "Certificates"),
        headers: vec![
            t("姓名", "Name"),
            t("证书编号", "Serial"),
            t("验证码", "Code"),
            t("颁发时间", "Issued"),
            t("状态", "Status"),
        ],
        rows: certs.iter().map(|c| certificate_row(lang, c)).collect(),
    }
}

/// The article texts graded against: (statute, revision, article) → text.
pub fn statutes_table(lang: Lang, cited: &BTreeMap<(String, String, u32), String>) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    Table {
        title: t("法条版本", "Statute versions"),
        headers: vec![
            t("法规", "Statute"),
            t("版本日期", "Revision"),
            t("条", "Article"),
            t("条文", "Text"),
        ],
        rows: cited
            .iter()
            .map(|((s, r, a), text)| {
                vec![
                    Cell::Text(s.clone()),
                    Cell::Text(r.clone()),
                    Cell::Number(*a as f64),
                    Cell::Text(text.clone()),
                ]
            })
            .collect(),
    }
}

/// What an area gets wrong: one row per question, grouped under its rule (worst rule first), with the
/// rule's and the question's counts apart; rules with too few answers to rank follow, without a rank.
pub fn mistakes_table(
    lang: Lang,
    ranked: &[(RuleMistakes, CitedArticle)],
    few: &[(RuleMistakes, CitedArticle)],
) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let mut rows = Vec::new();
    let numbered = ranked.iter().enumerate().map(|(i, r)| (Some(i + 1), r));
    for (rank, (r, article)) in numbered.chain(few.iter().map(|r| (None, r))) {
        for q in &r.questions {
            let rate = Rate {
                part: q.wrong,
                whole: q.answered,
            };
            rows.push(vec![
                rank.map_or(Cell::Text(String::new()), |n| Cell::Number(n as f64)),
                Cell::Text(r.rule.citation.label(&article.statute_title)),
                Cell::Number(r.answered as f64),
                Cell::Number(r.wrong as f64),
                Cell::Text(r.wrong_rate().label(lang)),
                Cell::Text(q.stem.clone()),
                Cell::Number(q.answered as f64),
                Cell::Number(q.wrong as f64),
                Cell::Text(rate.label(lang)),
            ]);
        }
    }
    Table {
        title: t("答错较多的法条", "Rules answered worst"),
        headers: vec![
            t("排名", "Rank"),
            t("法条", "Article"),
            t("该法条作答次数", "Answers on the article"),
            t("答错次数", "Wrong"),
            t("答错率", "Share wrong"),
            t("题目", "Question"),
            t("本题作答次数", "Answers to the question"),
            t("本题答错次数", "Wrong"),
            t("本题答错率", "Share wrong"),
        ],
        rows,
    }
}

/// Statute coverage: one row per article in force, with the questions citing it.
pub fn coverage_table(lang: Lang, statutes: &[StatuteCoverage]) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let rows = statutes
        .iter()
        .flat_map(|s| {
            s.articles.iter().map(move |a| {
                vec![
                    Cell::Text(s.title.clone()),
                    Cell::Text(s.revision_date.clone()),
                    Cell::Text(a.label.clone()),
                    Cell::Text(a.chapter.clone()),
                    Cell::Number(a.questions.len() as f64),
                    Cell::Text(a.questions.join(" ")),
                ]
            })
        })
        .collect();
    Table {
        title: t("法条覆盖情况", "Statute coverage"),
        headers: vec![
            t("法规", "Statute"),
            t("版本", "Revision"),
            t("条", "Article"),
            t("章", "Chapter"),
            t("引用该条的题数", "Questions citing it"),
            t("题目编号", "Question ids"),
        ],
        rows,
    }
}
