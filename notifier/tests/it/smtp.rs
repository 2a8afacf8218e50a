//! Email through lettre to a real SMTP conversation on loopback. No well-kept pure-Rust
//! SMTP server crate exists (mailin-embedded pins an old rustls), so this is a minimal
//! RFC 5321 receiver: greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET,
//! NOOP, QUIT. It stores what it receives and can refuse chosen recipients.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jingzhun_notifier::{Channel, Message, SmtpChannel, SmtpSecurity};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// RCPT of this address gets 550 (no such mailbox): final.
const UNKNOWN: &str = "nobody@example.org";
/// RCPT of this address gets 451 (try later): greylisting and full queues look so.
const GREYLISTED: &str = "later@example.org";

#[derive(Clone, Debug, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

async fn start() -> (Arc<Mutex<Vec<Received>>>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let store = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move { converse(stream, store).await });
        }
    });
    (inbox, port)
}

async fn converse(stream: tokio::net::TcpStream, store: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut current = Received::default();
    let _ = write.write_all(b"220 jingzhun-test ESMTP\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-jingzhun-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK\r\n".into()
        } else if upper.starts_with("RSET") {
            current = Received::default();
            "250 OK\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            current = Received { mail_from: line[10..].trim().to_string(), ..Received::default() };
            "250 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let to = line[8..].trim().to_string();
            if to.contains(UNKNOWN) {
                "550 5.1.1 no such mailbox\r\n".into()
            } else if to.contains(GREYLISTED) {
                "451 4.7.1 greylisted, try again later\r\n".into()
            } else {
                current.rcpt_to.push(to);
                "250 OK\r\n".into()
            }
        } else if upper == "DATA" {
            if current.rcpt_to.is_empty() {
                "554 no valid recipients\r\n".into()
            } else {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 4.5.2).
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push_str("\r\n");
                }
                current.data = data;
                store.lock().expect("lock").push(std::mem::take(&mut current));
                "250 OK queued as TEST1\r\n".into()
            }
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            "502 command not implemented\r\n".into()
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The value of one header, unfolded.
fn header(data: &str, name: &str) -> String {
    let head = data.split("\r\n\r\n").next().expect("headers");
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_ascii_lowercase());
    unfolded
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
        .map(|line| line[prefix.len()..].trim().to_string())
        .unwrap_or_else(|| panic!("no {name} header in {data}"))
}

/// Decodes RFC 2047 base64 encoded-words; whitespace between adjacent encoded words is
/// dropped, as the RFC says, and kept around plain words.
fn decode_words(value: &str) -> String {
    let mut bytes = Vec::new();
    let mut previous_encoded = None;
    for token in value.split_whitespace() {
        let lower = token.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?") && token.ends_with("?=");
        assert!(encoded || !lower.starts_with("=?"), "unexpected encoded word {token}");
        if previous_encoded.is_some_and(|previous| !(previous && encoded)) {
            bytes.push(b' ');
        }
        if encoded {
            bytes.extend(BASE64.decode(&token[10..token.len() - 2]).expect("base64 word"));
        } else {
            bytes.extend(token.as_bytes());
        }
        previous_encoded = Some(encoded);
    }
    String::from_utf8(bytes).expect("utf-8")
}

fn channel(port: u16) -> SmtpChannel {
    SmtpChannel::new("127.0.0.1", port, SmtpSecurity::Plain, "精准扶贫 <noreply@jingzhun.test>", None).expect("channel")
}

fn notice(to: &str) -> Message {
    Message {
        recipient: to.into(),
        template: "deadline_approaching".into(),
        subject: Some("【精准】公示期即将结束：城关镇东村第3批".into()),
        body: Some("张科长：\n东村村级公示将于 11月30日 结束，尚有 1 条异议未答复。\n".into()),
        ..Message::default()
    }
}

#[tokio::test]
async fn a_chinese_email_arrives_intact() {
    let (inbox, port) = start().await;
    let delivery = channel(port).send(&notice("张科长 <zhang@example.org>")).await.expect("sent");
    assert_eq!(delivery.provider_code, "250");
    assert_eq!(delivery.provider_message_id.as_deref(), Some("OK queued as TEST1"));

    let received = inbox.lock().expect("lock").clone();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.mail_from, "<noreply@jingzhun.test>");
    assert_eq!(mail.rcpt_to, vec!["<zhang@example.org>".to_string()]);
    // Headers stay 7-bit: the Chinese subject and names travel as encoded words.
    let head = mail.data.split("\r\n\r\n").next().expect("headers");
    assert!(head.is_ascii(), "{head}");
    assert_eq!(decode_words(&header(&mail.data, "Subject")), "【精准】公示期即将结束：城关镇东村第3批");
    assert_eq!(decode_words(&header(&mail.data, "To")), "张科长 <zhang@example.org>");
    assert_eq!(decode_words(&header(&mail.data, "From")), "精准扶贫 <noreply@jingzhun.test>");
    // multipart/alternative: plain text first, then HTML, each UTF-8 in base64.
    let content_type = header(&mail.data, "Content-Type");
    assert!(content_type.starts_with("multipart/alternative"), "{content_type}");
    let boundary = content_type.split("boundary=").nth(1).expect("boundary").trim_matches('"').to_string();
    let parts: Vec<&str> =
        mail.data.split(&format!("--{boundary}")).skip(1).filter(|part| !part.starts_with("--")).collect();
    assert_eq!(parts.len(), 2, "{}", mail.data);
    let decoded: Vec<(String, String)> = parts
        .iter()
        .map(|part| {
            let part = part.trim_start_matches("\r\n");
            assert_eq!(header(part, "Content-Transfer-Encoding"), "base64");
            let content_type = header(part, "Content-Type").to_ascii_lowercase();
            assert!(content_type.contains("charset=utf-8"), "{content_type}");
            let body: String = part.split_once("\r\n\r\n").expect("body").1.split_whitespace().collect();
            (content_type, String::from_utf8(BASE64.decode(body).expect("base64 body")).expect("utf-8"))
        })
        .collect();
    assert!(decoded[0].0.starts_with("text/plain"));
    // lettre sends line ends as CRLF.
    assert_eq!(decoded[0].1.replace("\r\n", "\n"), notice("").body.expect("body"));
    assert!(decoded[1].0.starts_with("text/html"));
    assert!(decoded[1].1.contains("<p>张科长：<br>东村村级公示将于 11月30日 结束"), "{}", decoded[1].1);
}

#[tokio::test]
async fn refusals_are_classified_by_reply_code() {
    let (inbox, port) = start().await;
    let unknown = channel(port).send(&notice(UNKNOWN)).await.expect_err("550");
    assert!(unknown.is_permanent(), "{unknown:?}");
    assert_eq!(unknown.code(), "550");
    let later = channel(port).send(&notice(GREYLISTED)).await.expect_err("451");
    assert!(later.is_transient(), "{later:?}");
    assert_eq!(later.code(), "451");
    let malformed = channel(port).send(&notice("not an address")).await.expect_err("invalid");
    assert!(malformed.is_permanent());
    assert_eq!(malformed.code(), "invalid_address");
    assert!(inbox.lock().expect("lock").is_empty());
}
