//! What the channels log, captured at TRACE with every dependency's events: no secret,
//! no robot key, no whole phone number, in success or failure.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jingzhun_notifier::Channel;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_hold_no_secret_and_no_whole_number() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread test runtime: the guard covers the stand-ins' tasks too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let (_aliyun, endpoint) = crate::aliyun::start().await;
    let aliyun_ok = crate::aliyun::channel(&endpoint, crate::aliyun::SECRET);
    aliyun_ok.send(&crate::aliyun::reminder("13800138000")).await.expect("sent");
    let aliyun_bad = crate::aliyun::channel(&endpoint, "wrong-secret");
    aliyun_bad.send(&crate::aliyun::reminder("13800138000")).await.expect_err("refused");

    let (_tencent, endpoint) = crate::tencent::start().await;
    let tencent = crate::tencent::channel(&endpoint, crate::tencent::SECRET_KEY);
    tencent.send(&crate::tencent::reminder("13800138000")).await.expect("sent");
    tencent.send(&crate::tencent::reminder(crate::tencent::THROTTLED)).await.expect_err("throttled");

    let (_robot, robot) = crate::wecom::start().await;
    robot.send(&crate::wecom::digest(crate::wecom::KEY, "提醒")).await.expect("sent");
    robot.send(&crate::wecom::digest("no-such-robot", "提醒")).await.expect_err("refused");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("138****8000"), "channels log the masked number:\n{logs}");
    for secret in [
        "13800138000",
        crate::tencent::THROTTLED,
        crate::aliyun::SECRET,
        "wrong-secret",
        crate::tencent::SECRET_KEY,
        crate::wecom::KEY,
        "no-such-robot",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs:\n{logs}");
    }
}
