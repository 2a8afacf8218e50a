//! Every signing example of `vectors.json`, reproduced exactly. `vectors.json` is a copy
//! of `../shared/test-vectors/vectors.json`, kept in the crate so the tests do not
//! depend on a path outside the repository; a test below catches drift between them.
//! (Its GB 11643 ID-number examples concern the server's validators and are tested
//! in `mobile-api`.)

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use jingzhun_notifier::sms::{aliyun, tencent};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors.json")).expect("vectors.json parses")
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("field {field} missing in {value}"))
}

fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn copy_matches_the_shared_file() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/test-vectors/vectors.json");
    if let Ok(shared) = std::fs::read_to_string(shared) {
        let shared: Value = serde_json::from_str(&shared).expect("shared vectors parse");
        assert_eq!(shared, vectors(), "notifier/tests/it/vectors.json is out of date");
    }
}

#[test]
fn aliyun_rpc_v1_examples() {
    let examples = vectors()["aliyun_rpc_v1_hmac_sha1"].as_array().expect("array").clone();
    assert_eq!(examples.len(), 3);
    for example in examples {
        let method = text(&example, "method");
        let params: BTreeMap<String, String> = example["params"]
            .as_object()
            .expect("params")
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().expect("string param").to_string()))
            .collect();
        if let Some(expected) = example["string_to_sign"].as_str() {
            assert_eq!(aliyun::rpc_v1_string_to_sign(method, &params), expected, "{}", text(&example, "source"));
        }
        let signature = aliyun::rpc_v1_signature(method, &params, text(&example, "access_key_secret"));
        assert_eq!(signature, text(&example, "signature"), "{}", text(&example, "source"));
        // The signature travels encoded: '+', '/' and '=' of base64 must be escaped.
        let query = aliyun::rpc_v1_signed_query(method, &params, text(&example, "access_key_secret"));
        assert!(query.ends_with(&format!("&Signature={}", aliyun::percent_encode(&signature))));
    }
}

#[test]
fn aliyun_rpc_v1_get_and_post_differ() {
    let examples = vectors()["aliyun_rpc_v1_hmac_sha1"].as_array().expect("array").clone();
    assert_eq!(examples[1]["params"], examples[2]["params"]);
    assert_ne!(examples[1]["signature"], examples[2]["signature"]);
}

#[test]
fn aliyun_acs3_example() {
    let examples = vectors()["aliyun_acs3_hmac_sha256"].as_array().expect("array").clone();
    assert_eq!(examples.len(), 1);
    for example in examples {
        let query: BTreeMap<String, String> = text(&example, "query")
            .split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').expect("name=value");
                (name.to_string(), value.to_string())
            })
            .collect();
        let body = text(&example, "body");
        let headers: BTreeMap<String, String> = [
            ("host", text(&example, "host").to_string()),
            ("x-acs-action", text(&example, "action").to_string()),
            ("x-acs-content-sha256", hex::encode(Sha256::digest(body.as_bytes()))),
            ("x-acs-date", text(&example, "x_acs_date").to_string()),
            ("x-acs-signature-nonce", text(&example, "nonce").to_string()),
            ("x-acs-version", text(&example, "version").to_string()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        let signed = aliyun::acs3_sign(
            text(&example, "method"),
            "/",
            &query,
            &headers,
            body.as_bytes(),
            text(&example, "access_key_id"),
            text(&example, "access_key_secret"),
        );
        assert_eq!(signed.signed_headers, text(&example, "signed_headers"));
        assert_eq!(signed.hashed_canonical_request, text(&example, "hashed_canonical_request"));
        assert_eq!(signed.signature, text(&example, "signature"));
        assert_eq!(
            signed.authorization,
            format!(
                "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={}",
                text(&example, "access_key_id"),
                text(&example, "signed_headers"),
                text(&example, "signature")
            )
        );
    }
}

fn tencent_headers(example: &Value) -> Vec<(String, String)> {
    text(example, "signed_headers")
        .split(';')
        .map(|name| {
            let value = match name {
                "content-type" => text(example, "content_type"),
                "host" => text(example, "host"),
                "x-tc-action" => text(example, "x_tc_action"),
                other => panic!("unexpected signed header {other}"),
            };
            (name.to_string(), value.to_string())
        })
        .collect()
}

#[test]
fn tencent_tc3_examples() {
    let examples = vectors()["tencent_tc3_hmac_sha256"].as_array().expect("array").clone();
    assert_eq!(examples.len(), 2);
    for example in examples {
        let headers = tencent_headers(&example);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        let timestamp = example["timestamp"].as_i64().expect("timestamp");
        let request = tencent::Tc3Request {
            method: text(&example, "method"),
            query: "",
            headers: &headers,
            payload: text(&example, "payload").as_bytes(),
            service: text(&example, "service"),
            timestamp,
        };
        assert_eq!(tencent::utc_date(timestamp), text(&example, "date"));
        let signed = if let Some(secret_date) = example["secret_date"].as_str() {
            // The published example masks the secret key but gives the derived keys:
            // check each link of the chain from the date key on.
            let secret_date = hex::decode(secret_date).expect("hex");
            let secret_service = hmac_sha256(&secret_date, text(&example, "service"));
            assert_eq!(hex::encode(&secret_service), text(&example, "secret_service"));
            let signing_key = tencent::tc3_signing_key_from_date(&secret_date, text(&example, "service"));
            assert_eq!(hex::encode(signing_key), text(&example, "secret_signing"));
            tencent::tc3_sign_with_key(&request, &signing_key)
        } else {
            tencent::tc3_sign(&request, text(&example, "secret_key"))
        };
        assert_eq!(signed.signed_headers, text(&example, "signed_headers"));
        if let Some(hashed_payload) = example["hashed_payload"].as_str() {
            assert_eq!(signed.hashed_payload, hashed_payload);
        }
        if let Some(hashed) = example["hashed_canonical_request"].as_str() {
            assert_eq!(signed.hashed_canonical_request, hashed);
        }
        assert_eq!(signed.signature, text(&example, "signature"), "{}", text(&example, "source"));
        if let Some(secret_id) = example["secret_id"].as_str() {
            assert_eq!(
                signed.authorization(secret_id, "cvm"),
                format!(
                    "TC3-HMAC-SHA256 Credential={secret_id}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature={}",
                    text(&example, "signature")
                )
            );
        }
    }
}
