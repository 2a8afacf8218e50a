//! Stand-ins the end-to-end tests share. The SMS gateway and the WeCom webhook live in
//! `jingzhun_tools::standins` (the benchmark uses them too); this holds a real SMTP
//! server on loopback: Python's aiosmtpd (installed by `.ci/run` and `scripts/test`),
//! which writes each message it accepts, decoded, as one JSON file; and [`stage`], a
//! server wired to all of them.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use jingzhun_notifier::Secret;
use jingzhun_notifier::config::{AliyunSection, SmtpSection};
use jingzhun_tools::standins::{ALIYUN_KEY_ID, ALIYUN_SECRET, AliyunGateway, WeComStandIn};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness::{Backend, PASSWORD, TestApp, seed};

const RECEIVER: &str = r#"
import email, json, os, sys, threading, uuid
from email import policy
from aiosmtpd.controller import Controller

port, out = int(sys.argv[1]), sys.argv[2]

class Keep:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "plain": plain.get_content() if plain else "",
            "html": html.get_content() if html else "",
        }
        name = os.path.join(out, uuid.uuid4().hex)
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(name + ".tmp", name + ".json")
        return "250 OK queued as " + uuid.uuid4().hex[:12]

controller = Controller(Keep(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
threading.Event().wait()
"#;

/// aiosmtpd on a loopback port, killed when dropped.
pub struct SmtpReceiver {
    pub port: u16,
    dir: PathBuf,
    _child: tokio::process::Child,
}

impl SmtpReceiver {
    pub async fn start() -> SmtpReceiver {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("address").port()
        };
        let dir = std::env::temp_dir().join(format!("jingzhun-smtp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("inbox dir");
        let mut child = tokio::process::Command::new("python3")
            .arg("-u")
            .arg("-c")
            .arg(RECEIVER)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs (aiosmtpd: pip install aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        assert!(
            matches!(ready, Ok(Ok(Some(ref line))) if line == "ready"),
            "aiosmtpd did not start (is it installed? pip install aiosmtpd): {ready:?}"
        );
        SmtpReceiver { port, dir, _child: child }
    }

    /// The messages received so far, decoded (`subject`, `plain`, `html`, `rcpt_to`, …).
    pub fn messages(&self) -> Vec<Value> {
        let mut messages = Vec::new();
        for entry in std::fs::read_dir(&self.dir).expect("inbox").flatten() {
            if entry.path().extension().is_some_and(|ext| ext == "json") {
                let text = std::fs::read_to_string(entry.path()).expect("message");
                messages.push(serde_json::from_str(&text).expect("json"));
            }
        }
        messages
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Stage {
    pub app: TestApp,
    pub sms: AliyunGateway,
    pub smtp: Option<SmtpReceiver>,
    pub wecom: WeComStandIn,
}

pub fn beijing(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Shanghai.with_ymd_and_hms(2026, 11, day, hour, minute, 0).single().expect("valid").with_timezone(&Utc)
}

/// A server whose SMS goes to the Aliyun stand-in, email to aiosmtpd (when `email`), WeCom
/// to its stand-in; the clock at 10:00 Beijing time on a Monday; the county seeded.
pub async fn stage(backend: Backend, email: bool, tweak: impl FnOnce(&mut jingzhun::Config)) -> Stage {
    let (sms, endpoint) = AliyunGateway::start().await.expect("sms stand-in");
    let (wecom, wecom_url) = WeComStandIn::start().await.expect("wecom stand-in");
    let smtp = if email { Some(SmtpReceiver::start().await) } else { None };
    let smtp_port = smtp.as_ref().map(|smtp| smtp.port);
    let app = TestApp::spawn_with(backend, |config| {
        config.notify.dispatcher_enabled = false;
        config.notify.sms_provider = "aliyun".into();
        config.notify.aliyun = Some(AliyunSection {
            endpoint,
            access_key_id: ALIYUN_KEY_ID.into(),
            access_key_secret: Secret::new(ALIYUN_SECRET),
            sign_name: "精准扶贫".into(),
        });
        config.notify.smtp = smtp_port.map(|port| SmtpSection {
            host: "127.0.0.1".into(),
            port,
            security: "plain".into(),
            username: String::new(),
            password: None,
            from: "精准扶贫 <noreply@jingzhun.test>".into(),
        });
        config.notify.wecom = Some(jingzhun_notifier::config::WeComSection { base_url: wecom_url });
        tweak(config);
    })
    .await;
    app.clock.set(beijing(23, 10, 0));
    seed(&app).await;
    Stage { app, sms, smtp, wecom }
}

/// Creates a user with a role over a region, a phone and an email; returns the id.
pub async fn user(
    app: &TestApp,
    username: &str,
    role: &str,
    region: &str,
    phone: Option<&str>,
    email: Option<&str>,
) -> String {
    let body = json!({
        "username": username, "name": username, "password": PASSWORD,
        "phone": phone, "email": email,
        "roles": [{"role": role, "region_code": region}],
    });
    app.admin.ok_post("/api/v1/users", body).await["id"].as_str().expect("id").to_owned()
}
