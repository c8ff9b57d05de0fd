//! A believable demo for a newcomer's first `cargo run`: a district, two streets, 居委 and estates with
//! committees and chairs, a lawyer, an official, an admin and an upcoming session. Seeded only into an
//! empty database, and never in production (the settings refuse it).

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::accounts::passwords;
use super::{ServiceError, org};
use crate::db::{people, sessions as sessions_db};
use crate::domain::contact::{EmailAddress, PhoneNumber};
use crate::domain::org::Term;
use crate::domain::person::{DisplayName, Role, Roles};
use crate::domain::quiz::{BlueprintRule, QuizSettings};

/// The password of every demo account (printed at start-up; demo only).
pub const DEMO_PASSWORD: &str = "quorum-demo";

/// A sign-in printed for the newcomer.
pub struct DemoSignin {
    pub role: Role,
    pub name: &'static str,
    pub phone: &'static str,
    /// An official of the whole district rather than of the first street.
    pub district_wide: bool,
}

pub const DEMO_SIGNINS: [DemoSignin; 5] = [
    DemoSignin {
        role: Role::Admin,
        name: "系统管理员",
        phone: "13900000001",
        district_wide: false,
    },
    DemoSignin {
        role: Role::Official,
        name: "陈晓红",
        phone: "13900000002",
        district_wide: false,
    },
    DemoSignin {
        role: Role::Lawyer,
        name: "刘建国",
        phone: "13900000003",
        district_wide: false,
    },
    DemoSignin {
        role: Role::Chair,
        name: "王秀英",
        phone: "13900000101",
        district_wide: false,
    },
    DemoSignin {
        role: Role::Official,
        name: "赵志强",
        phone: "13900000004",
        district_wide: true,
    },
];

/// A 居委 and its estates.
type Neighbourhood = (&'static str, &'static [&'static str]);

const STREETS: [(&str, &[Neighbourhood]); 2] = [
    (
        "花木街道",
        &[
            ("联洋第一居委", &["联洋花园", "证大家园"]),
            ("梅园居委", &["梅园新村", "东方城市花园"]),
        ],
    ),
    (
        "洋泾街道",
        &[("洋泾居委", &["泾东小区", "阳光威尼斯"]), ("羽山居委", &["羽山新村"])],
    ),
];

const CHAIRS: [&str; 14] = [
    "王秀英",
    "李建华",
    "张玉兰",
    "刘德明",
    "陈桂芳",
    "杨志刚",
    "赵淑珍",
    "黄国平",
    "周美华",
    "吴永康",
    "徐丽娟",
    "孙伟民",
    "马凤英",
    "朱晓东",
];

/// Seeds the demo if the database has nobody in it. Returns whether it seeded.
pub async fn seed_if_empty(db: &DatabaseConnection) -> Result<bool, ServiceError> {
    if people::count(db).await? > 0 {
        return Ok(false);
    }
    let hash = passwords::hash(DEMO_PASSWORD.to_string()).await?;
    let txn = crate::db::begin_write(db).await?;
    let places = seed_places(&txn).await?;
    let lawyer = seed_staff(&txn, &hash, &places).await?;
    seed_chairs(&txn, &hash, &places.committees).await?;
    let session = seed_session(&txn, &places, lawyer).await?;
    txn.commit().await?;
    set_up_quiz(db, session).await;
    Ok(true)
}

/// The district, its streets and, per committee, its street.
struct Places {
    district: i64,
    streets: Vec<i64>,
    /// (street, committee)
    committees: Vec<(i64, i64)>,
}

/// The district, its streets, 居委, estates and a committee per estate.
async fn seed_places(txn: &impl ConnectionTrait) -> Result<Places, ServiceError> {
    let district = org::create_unit(txn, None, "浦东新区", None).await?;
    let term = Term::new(
        NaiveDate::from_ymd_opt(2024, 6, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2029, 5, 31).unwrap_or_default(),
    )
    .ok();
    let mut places = Places {
        district: district.id,
        streets: Vec::new(),
        committees: Vec::new(),
    };
    for (street, neighbourhoods) in STREETS {
        let s = org::create_unit(txn, Some(district.id), street, None).await?;
        places.streets.push(s.id);
        for (n, estates) in neighbourhoods {
            let nu = org::create_unit(txn, Some(s.id), n, None).await?;
            for e in *estates {
                let eu = org::create_unit(txn, Some(nu.id), e, None).await?;
                let c = org::create_unit(txn, Some(eu.id), &format!("{e}业主委员会"), term).await?;
                places.committees.push((s.id, c.id));
            }
        }
    }
    Ok(places)
}

fn person(name: &str, phone: &str) -> Result<(DisplayName, PhoneNumber), ServiceError> {
    let n = DisplayName::parse(name).map_err(ServiceError::Refused)?;
    let p = PhoneNumber::parse(phone).map_err(|e| ServiceError::Refused(e.reason))?;
    Ok((n, p))
}

/// The admin, the officials (of the first street, of the district) and the lawyer; returns the
/// lawyer's id.
async fn seed_staff(txn: &impl ConnectionTrait, hash: &str, places: &Places) -> Result<i64, ServiceError> {
    let mut lawyer = 0;
    for s in DEMO_SIGNINS.iter().filter(|s| s.role != Role::Chair) {
        let (n, p) = person(s.name, s.phone)?;
        let id = people::insert(
            txn,
            people::NewPerson {
                name: &n,
                phone: &p,
                email: None,
                password_hash: Some(hash.to_string()),
                committee_id: None,
                position: None,
            },
        )
        .await?;
        people::set_roles(txn, id, &Roles::new([s.role])).await?;
        match s.role {
            Role::Official if s.district_wide => people::set_official_districts(txn, id, &[places.district]).await?,
            Role::Official => people::set_official_streets(txn, id, &places.streets[..1]).await?,
            Role::Lawyer => lawyer = id,
            _ => {}
        }
    }
    Ok(lawyer)
}

/// The chairs, spread over the committees: the first of each committee is its 主任.
async fn seed_chairs(txn: &impl ConnectionTrait, hash: &str, committees: &[(i64, i64)]) -> Result<(), ServiceError> {
    for (i, name) in CHAIRS.iter().enumerate() {
        let (n, p) = person(name, &format!("139000001{i:02}", i = i + 1))?;
        let (_, committee) = committees[i % committees.len()];
        let email = EmailAddress::parse(&format!("chair{}@example.com", i + 1)).ok();
        // The first chair has a password for the printed sign-in; the rest are as an import leaves them.
        let pw = (i == 0).then(|| hash.to_string());
        let position = if i < committees.len() { "主任" } else { "委员" };
        let id = people::insert(
            txn,
            people::NewPerson {
                name: &n,
                phone: &p,
                email: email.as_ref(),
                password_hash: pw,
                committee_id: Some(committee),
                position: Some(position),
            },
        )
        .await?;
        people::add_role(txn, id, Role::Chair).await?;
    }
    Ok(())
}

/// A session in three days for the committees of the first street, given by the lawyer.
async fn seed_session(txn: &impl ConnectionTrait, places: &Places, lawyer: i64) -> Result<i64, ServiceError> {
    let start = (Utc::now() + Duration::days(3))
        .date_naive()
        .and_hms_opt(6, 30, 0)
        .unwrap_or_default()
        .and_utc();
    let street = places.streets[0];
    let invited: Vec<i64> = (places.committees.iter())
        .filter(|(s, _)| *s == street)
        .map(|(_, c)| *c)
        .collect();
    let session = sessions_db::insert(
        txn,
        sessions_db::NewSession {
            title: "业主大会召开与业委会换届改选实务",
            description: "结合《民法典》第二百七十八条和《上海市住宅物业管理规定》，讲解业主大会的召开程序、表决规则以及业委会换届改选的流程。",
            street_id: street,
            starts_at: start,
            ends_at: start + Duration::minutes(90),
            created_by: None,
            invite_token: super::tokens::new_token(),
            lecturers: &[lawyer],
            committees: &invited,
        },
    )
    .await?;
    Ok(session)
}

/// A ready quiz for the demo session, if the sample banks loaded.
async fn set_up_quiz(db: &DatabaseConnection, session: i64) {
    let rule = |topic: &str| BlueprintRule {
        topic: topic.into(),
        count: 5,
    };
    let quiz = QuizSettings {
        blueprint: vec![rule("业主大会"), rule("业委会组建与换届改选")],
        ..Default::default()
    };
    if let Err(ServiceError::Rejected(problems)) = super::quiz::save_settings(db, session, &quiz).await {
        tracing::info!(?problems, "demo quiz not set up (question banks missing)");
    }
}
