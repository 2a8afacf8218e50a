//! Message templates: Chinese text with `{variable}` placeholders, filled from the
//! event's variables. Rendering never fails: a missing variable becomes empty text, so a
//! template edited by an administrator cannot stop a reminder from going out.

use serde_json::{Map, Value};

/// A variable's text: strings as they are, numbers and booleans printed, `null` empty,
/// lists joined with the Chinese enumeration comma.
pub fn variable_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(variable_text).collect::<Vec<_>>().join("、"),
        other => other.to_string(),
    }
}

/// Replaces each `{name}` in `template` with the variable's text. `{{` and `}}` write
/// literal braces; an unclosed `{` is kept as written.
pub fn render(template: &str, params: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        match tail.find('}') {
            Some(close) if tail[1..close].chars().all(|c| c.is_alphanumeric() || c == '_') && close > 1 => {
                out.push_str(&params.get(&tail[1..close]).map(variable_text).unwrap_or_default());
                rest = &tail[close + 1..];
            }
            _ => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Cuts a variable to `max` characters with an ellipsis: SMS providers refuse longer
/// variables (Aliyun: 35), and a shortened name still tells the officer what is due.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_filled_and_missing_ones_left_empty() {
        let params = json!({"notice_title": "第一批公示", "days": 3, "lagging": ["东村", "西村"]});
        let params = params.as_object().expect("object");
        assert_eq!(render("《{notice_title}》等待{days}天", params), "《第一批公示》等待3天");
        assert_eq!(render("滞后：{lagging}；{missing}。", params), "滞后：东村、西村；。");
        assert_eq!(render("{{literal}} { 不是变量 }", params), "{literal} { 不是变量 }");
    }

    #[test]
    fn long_variables_are_shortened_by_characters() {
        assert_eq!(shorten("短", 35), "短");
        let long = "村".repeat(40);
        assert_eq!(shorten(&long, 35).chars().count(), 35);
        assert!(shorten(&long, 35).ends_with('…'));
    }
}
