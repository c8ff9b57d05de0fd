//! The report tables (what the pages show and the CSV/XLSX exports contain), built in one place so the
//! files always match the page.

use super::{Dashboard, ItemLine, SessionReport, UnitRow};
use crate::export::{Cell, Table};
use crate::i18n::Lang;

pub fn session_table(lang: Lang, r: &SessionReport) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    Table {
        title: t("出勤与成绩", "Attendance and results"),
        headers: vec![
            t("姓名", "Name"),
            t("居委", "Area"),
            t("小区", "Estate"),
            t("在场分钟", "Minutes"),
            t("在场比例", "Share"),
            t("达到出勤要求", "Met gate"),
            t("答卷", "Attempt"),
            t("得分", "Score"),
            t("合格", "Passed"),
            t("证书邮件", "Certificate email"),
        ],
        rows: r
            .lines
            .iter()
            .map(|l| {
                let (state, score, passed) = match &l.attempt {
                    None => (t("未参加", "none"), Cell::Text(String::new()), String::new()),
                    Some(a) if a.status == crate::db::quiz::AttemptStatus::Open => {
                        (t("答题中", "in progress"), Cell::Text(String::new()), String::new())
                    }
                    Some(a) => (
                        t("已交卷", "submitted"),
                        Cell::Number(a.correct.unwrap_or(0) as f64),
                        if a.passed == Some(true) {
                            t("是", "yes")
                        } else {
                            t("否", "no")
                        },
                    ),
                };
                vec![
                    Cell::Text(l.name.clone()),
                    Cell::Text(l.neighbourhood.clone()),
                    Cell::Text(l.estate.clone()),
                    Cell::Number(l.minutes as f64),
                    Cell::Text(format!("{:.0}%", l.share * 100.0)),
                    Cell::Text(if l.met_gate { t("是", "yes") } else { t("否", "no") }),
                    Cell::Text(state),
                    score,
                    Cell::Text(passed),
                    Cell::Text(l.email.map(|e| e.label(lang).to_string()).unwrap_or_default()),
                ]
            })
            .collect(),
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
            t("持有效证书", "Certified"),
            t("覆盖率", "Coverage"),
        ],
        rows,
    }
}

pub fn items_table(lang: Lang, items: &[ItemLine]) -> Table {
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{:.0}%", v * 100.0))
            .unwrap_or_else(|| t("无数据", "no data"))
    };
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
        rows: items
            .iter()
            .map(|i| {
                vec![
                    Cell::Text(i.qid.clone()),
                    Cell::Number(i.version_no as f64),
                    Cell::Text(i.bank.clone()),
                    Cell::Number(i.stat.drawn as f64),
                    Cell::Text(pct(i.stat.facility)),
                    i.stat
                        .discrimination
                        .map(|d| Cell::Decimal(d, 2))
                        .unwrap_or_else(|| Cell::Text(t("无数据", "no data"))),
                    Cell::Text(
                        i.choices
                            .iter()
                            .map(|(k, n)| format!("{k}:{n}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    Cell::Text(if i.stat.flagged() {
                        t("是", "yes")
                    } else {
                        String::new()
                    }),
                    Cell::Text(i.citations.join("; ")),
                ]
            })
            .collect(),
    }
}
