//! The demo county's notices: every village with identifications waiting at the
//! village notice gets one, every township with exits waiting at the township notice
//! gets one, published as their own teams a day or two ago; one carries an objection
//! already answered and another an objection still open. `jingzhun demo` prints their
//! pages so a new user can scan a real code at once.
//!
//! Everything goes through the notice and objection services as the teams themselves
//! would (drafted, published, objected to, answered): never a hand-written notice row,
//! so a demo notice obeys every rule a real one does.

use chrono::{DateTime, Duration, Utc};
use jingzhun::auth::{Caller, tokens::grants_of};
use jingzhun::db::{Db, sql};
use jingzhun::notices::notice::{self, NewNotice};
use jingzhun::notices::objections::{self, Answer, ObjectionForm};
use sea_orm::FromQueryResult;

/// A published demo notice: its title and public token.
#[derive(Debug, Clone)]
pub struct DemoNotice {
    pub title: String,
    pub token: String,
    pub households: usize,
    pub objections: usize,
}

/// The first user holding `role` exactly over `region_code`, as a caller.
async fn team(db: &Db, role: &str, region_code: &str) -> anyhow::Result<Option<Caller>> {
    #[derive(FromQueryResult)]
    struct TeamRow {
        user_id: String,
        username: String,
        name: String,
    }
    let row = TeamRow::find_by_statement(sql(
        db.backend(),
        "SELECT u.id AS user_id, u.username AS username, u.name AS name \
         FROM role_grant g JOIN app_user u ON u.id = g.user_id \
         WHERE g.role = ? AND g.region_code = ? ORDER BY u.username LIMIT 1",
        vec![role.into(), region_code.into()],
    ))
    .one(&db.conn)
    .await?;
    let Some(TeamRow { user_id, username, name }) = row else { return Ok(None) };
    Ok(Some(Caller {
        grants: grants_of(&db.conn, &user_id).await?,
        username,
        name,
        user_id,
        device_id: "demo".into(),
        draining: false,
    }))
}

/// Regions (village or township codes) holding open cases at `step` under the county.
async fn regions_waiting(db: &Db, step: &str, county_prefix: &str, township: bool) -> anyhow::Result<Vec<String>> {
    #[derive(FromQueryResult)]
    struct VillageRow {
        region_code: String,
    }
    let rows = VillageRow::find_by_statement(sql(
        db.backend(),
        "SELECT DISTINCT h.region_code AS region_code FROM procedure_case c \
         JOIN household h ON h.id = c.household_id \
         WHERE c.status = 'open' AND c.step = ? AND h.region_code LIKE ? ORDER BY h.region_code",
        vec![step.into(), format!("{county_prefix}%").into()],
    ))
    .all(&db.conn)
    .await?;
    let mut out: Vec<String> = Vec::new();
    for VillageRow { region_code: village } in rows {
        let region = if township { format!("{}000", &village[..9]) } else { village };
        if !out.contains(&region) {
            out.push(region);
        }
    }
    Ok(out)
}

async fn publish(
    db: &Db,
    caller: &Caller,
    step: &str,
    region_code: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<notice::NoticeView> {
    let draft = notice::create_draft(
        db,
        caller,
        NewNotice { step: step.into(), region_code: region_code.into(), title: None, period_days: None },
    )
    .await
    .map_err(|e| anyhow::anyhow!("drafting the demo notice for {region_code}: {}", e.code.code()))?;
    notice::publish(db, caller, &draft.id, at)
        .await
        .map_err(|e| anyhow::anyhow!("publishing the demo notice for {region_code}: {}", e.code.code()))
}

fn token_of(view: &notice::NoticeView) -> String {
    view.url.as_deref().and_then(|u| u.rsplit('/').next()).unwrap_or_default().to_owned()
}

/// Publishes the demo county's notices. `now` is the server's clock.
pub async fn publish_all(db: &Db, county_code: &str, now: DateTime<Utc>) -> anyhow::Result<Vec<DemoNotice>> {
    let county_prefix = &county_code[..6];
    let mut out = Vec::new();
    for (step, role, township, days_ago) in
        [("village_notice", "village", false, 2), ("township_notice", "township", true, 1)]
    {
        for region in regions_waiting(db, step, county_prefix, township).await? {
            let Some(caller) = team(db, role, &region).await? else { continue };
            let view = publish(db, &caller, step, &region, now - Duration::days(days_ago)).await?;
            out.push((caller, view));
        }
    }

    let mut notices: Vec<DemoNotice> = out
        .iter()
        .map(|(_, v)| DemoNotice {
            title: v.title.clone(),
            token: token_of(v),
            households: v.cases.len(),
            objections: 0,
        })
        .collect();
    // An objection answered on the first village notice, one still open on the first township notice.
    if let Some((caller, view)) = out.iter().find(|(_, v)| v.step == "village_notice") {
        let receipt = objections::file(
            db,
            now - Duration::hours(30),
            5,
            &token_of(view),
            ObjectionForm {
                entry: Some("1".into()),
                name: None,
                phone: None,
                body: "听说这户家里有人在县城开店，收入不低，请核实。".into(),
            },
            "demo",
        )
        .await
        .map_err(|e| anyhow::anyhow!("filing the demo objection: {}", e.code.code()))?;
        let filed = objections::by_receipt(&db.conn, &receipt).await?;
        let id = objections::list(db, caller, Some(&view.id), Some("open"))
            .await
            .map_err(|e| anyhow::anyhow!("listing the demo objections: {}", e.code.code()))?
            .into_iter()
            .find(|o| Some(&o.receipt) == filed.as_ref().map(|f| &f.receipt))
            .map(|o| o.id);
        // Investigated by the township's 核查组, never the village team whose list it is (002 §三(七)).
        let township = format!("{}000", &view.region_code[..9]);
        let group = team(db, "verifier", &township).await?;
        if let (Some(id), Some(group)) = (id, group) {
            let answer = Answer {
                outcome: "dismissed".into(),
                findings: "经核查组入户核实并查询市场监管部门登记信息，该户成员未经营店铺，在县城务工月收入约1800元，\
                           异议不成立。"
                    .into(),
                case_ids: Vec::new(),
            };
            objections::answer(db, &group, &id, answer, now - Duration::hours(6))
                .await
                .map_err(|e| anyhow::anyhow!("answering the demo objection: {}", e.code.code()))?;
        }
        if let Some(n) = notices.iter_mut().find(|n| n.token == token_of(view)) {
            n.objections += 1;
        }
    }
    if let Some((_, view)) = out.iter().find(|(_, v)| v.step == "township_notice") {
        objections::file(
            db,
            now - Duration::hours(3),
            5,
            &token_of(view),
            ObjectionForm {
                entry: None,
                name: Some("李大爷".into()),
                phone: None,
                body: "名单里有一户去年刚盖了新房，想问问怎么核实的。".into(),
            },
            "demo",
        )
        .await
        .map_err(|e| anyhow::anyhow!("filing the demo objection: {}", e.code.code()))?;
        if let Some(n) = notices.iter_mut().find(|n| n.token == token_of(view)) {
            n.objections += 1;
        }
    }
    Ok(notices)
}
