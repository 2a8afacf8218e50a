//! The public pages, rendered on the server: small, in Chinese, with no script, no
//! external asset and no web font, so they open on a cheap phone on a weak network.
//! Every string that came from a person (names, titles, objection text, findings)
//! goes through [`escape`].

use super::content::NoticeContent;
use super::objections::{MAX_BODY_CHARS, ReceiptView};
use super::period::chinese_date;
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;
use std::fmt::Write;

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:0;padding:12px;line-height:1.5;color:#222;max-width:720px}\
h1{font-size:1.25em;margin:.2em 0}h2{font-size:1.05em;margin:1em 0 .3em}\
.meta{color:#555;font-size:.9em}.period{background:#fff4e0;padding:8px;border-radius:4px}\
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ccc;padding:4px;text-align:left}\
th{background:#f3f3f3}label{display:block;margin-top:8px}input,select,textarea{width:100%;box-sizing:border-box;\
font-size:1em;padding:6px}textarea{height:8em}button{margin-top:12px;font-size:1.1em;padding:10px;width:100%;\
background:#c00;color:#fff;border:0;border-radius:4px}.hash{font-family:monospace;font-size:.75em;word-break:break-all;\
color:#555}.receipt{font-size:1.6em;font-family:monospace;letter-spacing:.1em}.error{background:#fee;color:#900;padding:8px}";

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        escape(title)
    );
}

fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&Shanghai).format("%Y年%-m月%-d日 %H:%M").to_string()
}

/// The state of a published notice that changes after publishing (not content).
pub struct Live<'a> {
    pub token: &'a str,
    pub content_sha256: &'a str,
    /// published or closed.
    pub status: &'a str,
    pub days_left: i64,
    pub open: bool,
}

fn entries_table(out: &mut String, content: &NoticeContent) {
    // A village notice is all one village: the column would only take a phone's width.
    let by_village = content.step != "village_notice";
    out.push_str("<table><thead><tr><th>序号</th>");
    if by_village {
        out.push_str("<th>村</th>");
    }
    out.push_str("<th>户主</th><th>身份证号</th><th>人口</th><th>类别</th><th>原因</th></tr></thead><tbody>");
    for e in &content.entries {
        let village = if by_village { format!("<td>{}</td>", escape(&e.village)) } else { String::new() };
        let _ = write!(
            out,
            "<tr><td>{}</td>{village}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.no,
            escape(&e.head_name),
            escape(&e.head_id_masked),
            e.members,
            escape(&e.case_kind),
            escape(&e.reason)
        );
    }
    out.push_str("</tbody></table>");
}

fn period_line(content: &NoticeContent) -> String {
    format!(
        "公示期：{}至{}（{}天）",
        chinese_date(content.first_day),
        chinese_date(content.last_day),
        content.period_days
    )
}

/// The mobile page a villager opens by scanning the QR code.
pub fn notice_page(content: &NoticeContent, live: &Live<'_>, csrf: &str, error: Option<&str>) -> String {
    let mut out = String::with_capacity(4096 + content.entries.len() * 200);
    head(&mut out, &content.title);
    let _ = write!(
        out,
        "<h1>{}</h1><p class=\"meta\">{} · {}</p><p class=\"period\">{}<br>",
        escape(&content.title),
        escape(&content.kind_label),
        escape(&content.publisher),
        escape(&period_line(content))
    );
    if live.open {
        let _ = write!(out, "距公示结束还有<b>{}</b>天。", live.days_left);
    } else if live.status == "closed" {
        out.push_str("公示已结束。");
    } else {
        out.push_str("公示期已满，正在办理异议。");
    }
    let _ = write!(out, "</p><h2>公示名单（共{}户）</h2>", content.entries.len());
    entries_table(&mut out, content);
    if live.open {
        out.push_str(
            "<h2>如有异议</h2><p>对名单中的农户有异议，或认为有符合条件的农户未列入，可在公示期内通过下表提出，\
             也可向村委会、乡镇人民政府反映。可以匿名。提交后会得到回执码，凭回执码查看办理结果。</p>",
        );
        if let Some(error) = error {
            let _ = write!(out, "<p class=\"error\">{}</p>", escape(error));
        }
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/n/{token}/objections\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>异议对象<select name=\"entry\"><option value=\"\">整个公示</option>",
            token = escape(live.token),
            csrf = escape(csrf)
        );
        for e in &content.entries {
            let _ = write!(out, "<option value=\"{}\">第{}户 {}</option>", e.no, e.no, escape(&e.head_name));
        }
        let _ = write!(
            out,
            "</select></label><label>异议内容（必填，{MAX_BODY_CHARS}字以内）\
             <textarea name=\"body\" maxlength=\"{MAX_BODY_CHARS}\" required></textarea></label>\
             <label>姓名（可不填）<input name=\"name\" maxlength=\"50\" autocomplete=\"name\"></label>\
             <label>联系电话（可不填）<input name=\"phone\" type=\"tel\" maxlength=\"20\" autocomplete=\"tel\"></label>\
             <button type=\"submit\">提交异议</button></form>"
        );
    }
    let _ = write!(
        out,
        "<h2>查询异议办理结果</h2><form method=\"get\" action=\"/o\"><label>回执码<input name=\"receipt\" maxlength=\"20\"></label>\
         <button type=\"submit\" style=\"background:#555\">查询</button></form>\
         <p class=\"hash\">内容校验码（SHA-256）：{}</p></body></html>",
        escape(live.content_sha256)
    );
    out
}

/// The A4 poster for the village board: the list, the QR code and the content hash.
pub fn poster(content: &NoticeContent, content_sha256: &str, qr_svg: &str, url: &str) -> String {
    let mut out = String::with_capacity(8192);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title><style>\
         @page{{size:A4;margin:15mm}}body{{font-family:serif;color:#000;margin:0}}h1{{text-align:center;font-size:22pt}}\
         table{{border-collapse:collapse;width:100%;font-size:11pt}}th,td{{border:1px solid #000;padding:3pt 5pt}}\
         .qr{{float:right;width:45mm;margin-left:6mm;text-align:center;font-size:9pt}}.qr svg{{width:45mm;height:45mm}}\
         .hash{{font-family:monospace;font-size:8pt;word-break:break-all}}.sign{{text-align:right;margin-top:12mm}}\
         </style></head><body><h1>{title}</h1>",
        title = escape(&content.title)
    );
    let qr_body = qr_svg.find("<svg").map_or(qr_svg, |at| &qr_svg[at..]);
    let _ = write!(
        out,
        "<div class=\"qr\">{qr_body}<div>扫码查看公示、提出异议</div><div class=\"hash\">{}</div></div>\
         <p>根据贫困户识别、退出工作程序，现将以下名单予以公示。{}。公示期内，对名单有异议的，可扫描右侧二维码提出，\
         或向{}反映，也可匿名反映。</p>",
        escape(url),
        escape(&period_line(content)),
        escape(&content.publisher)
    );
    entries_table(&mut out, content);
    let _ = write!(
        out,
        "<p class=\"sign\">{}<br>{}</p><p class=\"hash\">内容校验码（SHA-256）：{}<br>与网上公示核对：{}</p></body></html>",
        escape(&content.publisher),
        chinese_date(content.first_day - chrono::Days::new(1)),
        escape(content_sha256),
        escape(url)
    );
    out
}

/// The objector's receipt page.
pub fn receipt_page(r: &ReceiptView, just_filed: bool) -> String {
    let mut out = String::with_capacity(2048);
    head(&mut out, "异议办理情况");
    if just_filed {
        out.push_str("<h1>异议已提交</h1><p>请记下回执码，凭此码查看办理结果：</p>");
    } else {
        out.push_str("<h1>异议办理情况</h1>");
    }
    let status = match r.status.as_str() {
        "open" => "办理中",
        "upheld" => "异议成立，已退回重新核实",
        "dismissed" => "经调查核实，异议不成立",
        _ => "办理中",
    };
    let _ = write!(
        out,
        "<p class=\"receipt\">{}</p><p>公示：{}{}</p><p>提交时间：{}<br>答复期限：{}</p><p>状态：<b>{}</b></p>\
         <h2>异议内容</h2><p>{}</p>",
        escape(&r.receipt),
        escape(&r.notice_title),
        r.entry_no.map(|n| format!("（第{n}户）")).unwrap_or_default(),
        beijing(r.created_at),
        beijing(r.due_at),
        status,
        escape(&r.body).replace('\n', "<br>")
    );
    if let (Some(findings), Some(at)) = (&r.findings, r.answered_at) {
        let findings = escape(&hide_numbers(findings)).replace('\n', "<br>");
        let _ = write!(out, "<h2>调查核实情况（{}）</h2><p>{}</p>", beijing(at), findings);
    }
    if let Some(token) = &r.notice_token {
        let _ = write!(out, "<p><a href=\"/n/{}\">返回公示</a></p>", escape(token));
    }
    out.push_str("</body></html>");
    out
}

/// Findings are typed by officials for the objector, and anyone holding the receipt
/// reads them: a number long enough to be an ID, phone or bank account number (7 or
/// more digits, spaces and hyphens between them allowed; an ID's final X included) is
/// shown as `***`. Years, dates, counts and amounts stay.
pub fn hide_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Groups of digits joined by single separators: `138 0013 8000`, `2026-12-01`.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut j = i;
        loop {
            let group = j;
            while j < chars.len() && digit(chars[j]) {
                j += 1;
            }
            groups.push((group, j));
            if j + 1 < chars.len() && matches!(chars[j], ' ' | '-') && digit(chars[j + 1]) {
                j += 1;
            } else {
                break;
            }
        }
        // One number spans groups of 3 or more digits (a phone or card written in
        // blocks); a short group (a date's month) ends it.
        let mut k = 0;
        while k < groups.len() {
            let first = k;
            while k + 1 < groups.len() && groups[k].1 - groups[k].0 >= 3 && groups[k + 1].1 - groups[k + 1].0 >= 3 {
                k += 1;
            }
            let (from, mut to) = (groups[first].0, groups[k].1);
            let mut digits: usize = groups[first..=k].iter().map(|(a, b)| b - a).sum();
            if digits == 17 && chars.get(to).is_some_and(|c| matches!(c, 'X' | 'x' | 'Ｘ')) {
                to += 1;
                digits += 1;
            }
            if first > 0 {
                out.push(chars[groups[first].0 - 1]);
            }
            if digits >= 7 {
                out.push_str("***");
            } else {
                out.extend(&chars[from..to]);
            }
            i = to;
            k += 1;
        }
    }
    out
}

/// A short page for errors a villager can meet (not found, closed, too many tries).
pub fn message_page(title: &str, message: &str) -> String {
    let mut out = String::with_capacity(1024);
    head(&mut out, title);
    let _ = write!(out, "<h1>{}</h1><p>{}</p></body></html>", escape(title), escape(message));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_shown_publicly_hide_id_and_phone_numbers() {
        assert_eq!(hide_numbers("户主身份证32070319600101123X，电话138 0013 8000。"), "户主身份证***，电话***。");
        assert_eq!(hide_numbers("银行卡6222-0212-3456-7890"), "银行卡***");
        assert_eq!(hide_numbers("２０２６年购车1辆，年收入12000元"), "２０２６年购车1辆，年收入12000元");
        assert_eq!(hide_numbers("2026-12-01 入户"), "2026-12-01 入户");
        assert_eq!(hide_numbers("座机 0518-85201234"), "座机 ***");
    }

    #[test]
    fn escape_neutralises_markup_and_attribute_breaks() {
        assert_eq!(escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
        assert_eq!(escape("张三 & 李四"), "张三 &amp; 李四");
    }
}
