//! Stable error codes with their Chinese and English messages.
//!
//! A code is part of the contract: phones branch on it, so a code is never renamed or
//! reused. Messages may be reworded.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $zh:literal, $en:literal; )*) => {
        /// Every error a client can see.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];
            /// The stable machine-readable code.
            pub fn code(self) -> &'static str { match self { $( ErrorCode::$variant => $code, )* } }
            /// The Chinese message shown to officers.
            pub fn message_zh(self) -> &'static str { match self { $( ErrorCode::$variant => $zh, )* } }
            /// The English message.
            pub fn message_en(self) -> &'static str { match self { $( ErrorCode::$variant => $en, )* } }
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    // Authentication and authorisation.
    Unauthenticated = "unauthenticated", "未登录或登录已失效", "Not signed in or the sign-in has expired";
    InvalidCredentials = "invalid_credentials", "用户名或密码错误", "Wrong username or password";
    TokenExpired = "token_expired", "登录已过期，请重新登录", "The token has expired; sign in again";
    DeviceRevoked = "device_revoked", "此设备已被停用", "This device has been revoked";
    Forbidden = "forbidden", "无权执行此操作", "Your role does not allow this";
    OutOfScope = "out_of_scope", "该户不在您的管辖或帮扶范围内", "This household is outside your region or assignment";
    Csrf = "csrf", "页面已过期或请求来源不明，请刷新页面后重试", "The request lacks this session's CSRF token; reload the page and try again";
    SessionExpired = "session_expired", "长时间未操作，请重新登录", "The session was idle too long; sign in again";
    // Request shape.
    InvalidJson = "invalid_json", "请求格式错误", "The request body is not valid JSON for this endpoint";
    InvalidRequest = "invalid_request", "请求参数错误", "The request is invalid";
    PayloadTooLarge = "payload_too_large", "提交内容过大", "The request body is too large";
    NotFound = "not_found", "记录不存在", "No such record";
    UpgradeRequired = "upgrade_required", "客户端版本过低，请升级", "This client version is no longer supported; please upgrade";
    CursorExpired = "cursor_expired", "同步位置已过期，请先上传后重新同步", "The cursor is older than the kept history; push, then pull from the start";
    InvalidCursor = "invalid_cursor", "同步位置无效", "The cursor is not valid";
    Conflict = "conflict", "与现有数据冲突", "This conflicts with existing data";
    Internal = "internal", "服务器内部错误，请稍后重试", "Internal server error; please retry later";
    // Field validation (change sets).
    Required = "required", "必填项不能为空", "This field is required";
    InvalidType = "invalid_type", "字段类型错误", "This field has the wrong type";
    TooLong = "too_long", "内容过长", "The value is too long";
    OutOfRange = "out_of_range", "数值超出范围", "The value is out of range";
    UnknownField = "unknown_field", "未知字段", "Unknown field";
    UnknownCode = "unknown_code", "代码值不在代码表中", "The value is not in the code table";
    TooManyValues = "too_many_values", "选项过多", "Too many values";
    InvalidIdNumber = "invalid_id_number", "身份证号码无效（校验位、出生日期或格式错误）", "Invalid ID number (check digit, birth date or format)";
    InvalidDisabilityCard = "invalid_disability_card", "残疾人证号码无效（应为20位：18位身份证号码加残疾类别1–7和残疾等级1–4）", "Invalid disability card number (20 characters: the 18-character ID number, category 1–7, grade 1–4)";
    IdTypeMismatch = "id_type_mismatch", "证件号码与证件类型不符（无证件不填号码；20位号码为残疾人证）", "The number does not match the document type (none has no number; 20 characters is a disability card)";
    InvalidPhone = "invalid_phone", "电话号码格式错误", "Invalid phone number";
    InvalidDate = "invalid_date", "日期格式错误（应为YYYY-MM-DD）", "Invalid date (expected YYYY-MM-DD)";
    InvalidRegion = "invalid_region", "区划代码不存在或不是村级", "Unknown region code, or not a village";
    InvalidMoney = "invalid_money", "金额格式错误（非负，最多两位小数）", "Invalid amount (non-negative, at most two decimals)";
    ReadOnlyField = "read_only_field", "该字段不能在手机端修改", "This field cannot be changed from a phone";
    MultipleHeads = "multiple_heads", "一户只能有一名户主", "A household has exactly one head";
    NoHead = "no_head", "该户没有户主", "The household has no head";
    DuplicatePerson = "duplicate_person", "此人已是另一在档户的成员", "This person is already a member of another active household";
    HouseholdNotFound = "household_not_found", "所属户不存在或不在范围内", "The household does not exist or is outside your scope";
    RecordNotFound = "record_not_found", "要修改的记录不存在", "The record to change does not exist";
    AlreadyExists = "already_exists", "记录已存在", "A record with this id already exists";
    VersionAhead = "version_ahead", "基础版本号大于服务器版本", "base_version is newer than the server's version";
    DeleteNotAllowed = "delete_not_allowed", "此类记录不能删除，请走相应程序", "This kind of record cannot be deleted; use the procedure";
    UnknownEntity = "unknown_entity", "未知的数据类型", "Unknown entity";
    DuplicateYear = "duplicate_year", "该户该年度的收入记录已存在", "An income record for this household and year already exists";
    AttachmentTooLarge = "attachment_too_large", "附件超过大小限制", "The attachment is larger than allowed";
    // Procedures (C4).
    CaseOpen = "case_open", "该户已有同类程序在办理中", "This household already has an open case of this kind";
    CaseNotAllowed = "case_not_allowed", "该户当前状态不能办理此程序", "This procedure does not apply to the household's current status";
    CaseFrozen = "case_frozen", "上级已签字，数据已锁定，只能由同级或上级修改", "A higher level has signed: only that level or above may change this data";
    CaseClosed = "case_closed", "该程序已结束", "This case is no longer open";
    StepMismatch = "step_mismatch", "程序不在该环节", "The case is not at this step";
    WrongRole = "wrong_role", "您的角色或辖区不能在此环节签字", "Your role or region may not sign at this step";
    RemovalsFirst = "removals_first", "本村清除程序未完成，须先退后进", "Removals in this village must go first (先退后进)";
    ExitOrder = "exit_order", "本村一般贫困户的退出尚未评议，低保、特困供养兜底户须在其后退出（先一般贫困户，后低保政策兜底户）", "General households of this village exit first: a 低保/五保 household's exit waits until theirs have passed the village assessment";
    EdgeListParticipants = "edge_list_participants", "名单须由村两委、驻村干部、驻村第一书记、帮扶队员共同研究提出：请填写参加研究的人员", "The list is decided by the village committees, resident cadres, first secretary and help team together: name who took part";
    ExitRefused = "exit_refused", "未达到脱贫标准，不能退出", "The household does not meet the exit standard";
    UnknownReason = "unknown_reason", "原因代码无效", "Unknown reason code for this kind of case";
    RemovalIsNormalExit = "removal_is_normal_exit", "建档立卡后取得（作为脱贫措施）的，不认定为错评，应按正常脱贫程序退出", "Acquired after registration (as an exit measure): not a mis-registration; the household leaves through the normal exit procedure";
    // Data comparison (C8).
    InvalidFile = "invalid_file", "文件无法读取：须为UTF-8编码的CSV或XLSX，且含身份证号码列", "The file cannot be read: it must be a UTF-8 CSV or an XLSX with an ID-number column";
    NoteRequired = "note_required", "须填写核实说明", "A field note is required";
    // The full household record (004 附件2).
    InvalidDecimal = "invalid_decimal", "数值格式错误（最多两位小数）", "Invalid number (at most two decimals)";
    InvalidBankAccount = "invalid_bank_account", "银行账号格式错误（应为8至30位数字）", "Invalid bank account number (8 to 30 digits)";
    // Public notices (C5, R10).
    NoticeStep = "notice_step", "公示环节须发布公示，期满无异议后自动通过", "A notice step passes by publishing a notice: it moves on when the period ends with no open objection";
    CaseOnNotice = "case_on_notice", "该案件正在公示中，公示结束前不能变动", "The case is listed on a published notice and cannot move until it closes";
    NoticeEmpty = "notice_empty", "没有处于该公示环节的案件", "No case is waiting at this notice step in this region";
    NoticeNotDraft = "notice_not_draft", "公示已发布，内容不能修改", "The notice is published: its content cannot change";
    NoticeNotPublished = "notice_not_published", "公示未发布或已结束", "The notice is not published, or has closed";
    NoticePeriodRunning = "notice_period_running", "公示期未满", "The notice period has not ended";
    ObjectionsOpen = "objections_open", "尚有未办结的异议，公示不能结束", "Objections are still open: the notice cannot close";
    InvalidPeriod = "invalid_period", "公示天数须为1至30天", "The notice period must be 1 to 30 days";
    RegionLevel = "region_level", "公示区域级别与公示环节不符", "The region's level does not match the notice step";
    CsrfFailed = "csrf_failed", "页面已过期，请刷新后重新提交", "The form has expired: reload the page and submit again";
    RateLimited = "rate_limited", "提交过于频繁，请稍后再试", "Too many submissions: try again later";
    ObjectionTooLong = "objection_too_long", "异议内容过长", "The objection is too long";
    ObjectionEmpty = "objection_empty", "请填写异议内容", "Write what the objection is about";
    ObjectionAnswered = "objection_answered", "该异议已答复", "The objection has already been answered";
    CasesRequired = "cases_required", "异议成立时须指明退回核实的案件", "An upheld objection to the whole notice must name the cases to return to verification";
    ResolutionRequired = "resolution_required", "村级公示无举报后，须提交村民代表会作出决议：请登记决议（会议日期、代表人数、到会人数、同意人数）", "After a village notice with no objection the villagers' representatives' meeting resolves on the list: record its resolution (day, members, present, agreeing)";
    ResolutionNotCarried = "resolution_not_carried", "村民代表会议须有三分之二以上组成人员到会，决定须经到会人员过半数同意", "A representatives' meeting needs two thirds of its members present, and a resolution a majority of those present";
    NoVerifier = "no_verifier", "该乡镇尚无动态管理工作核查组，村级公示的举报无人核实：请县级先为该乡镇设立核查组（授予核查组角色）再发布", "No verification group (核查组) covers this township, so objections to the village notice could not be investigated: the county must grant the verifier role over the township before it is published";
    ResolutionNotDue = "resolution_not_due", "该公示不是已结束的村级公示，或其案件已不在村民代表会决议环节", "The notice is not a closed village notice, or none of its cases waits for the representatives' resolution";
    // Campaigns and deadlines (C7).
    UnknownMeasure = "unknown_measure", "进度指标无效", "Unknown progress measure for a milestone";
    InvalidMilestone = "invalid_milestone", "工作节点无效：开始日期不能晚于截止日期，目标为1至100，提前提醒天数为1至60", "Invalid milestone: it cannot start after it is due, the target is 1 to 100 and reminders 1 to 60 days before";
    UnknownTemplate = "unknown_template", "没有这个工作模板", "No such campaign template";
    // Notifications (C6).
    UnknownChannel = "unknown_channel", "通知渠道无效，应为 sms、email 或 wecom", "Unknown notification channel: sms, email or wecom";
    UnknownEvent = "unknown_event", "通知事件无效", "Unknown notification event";
    TemplateEmpty = "template_empty", "模板内容不能为空", "The template body cannot be empty";
    ChannelNotConfigured = "channel_not_configured", "服务器未配置该通知渠道", "This notification channel is not configured on the server";
    InvalidAddress = "invalid_address", "接收地址无效（手机号须为11位、以1开头，可带+86）", "Invalid recipient address (a mobile number has 11 digits starting with 1, optionally +86)";
    NotificationState = "notification_state", "该消息当前状态不能这样处理", "The message's status does not allow this (resend: unknown or failed; cancel: not sent yet)";
    // Trust (issue 9): authority, logins, uploads, bad input.
    GrantNotAllowed = "grant_not_allowed", "不能授予高于或等于本人的角色，或授予本辖区以外的角色", "You may grant only roles below your own, inside your region, to users inside it";
    RegionCodeLevel = "region_code_level", "区划代码与上级区划或级别不符", "The region code does not fit its parent or its level";
    RootAdminRequired = "root_admin_required", "此操作须由系统管理员执行", "Only a deployment administrator may do this";
    NotAnOfficer = "not_an_officer", "该用户在此户所在区域没有帮扶责任人角色", "The user holds no officer role over this household's region";
    SameOfficer = "same_officer", "转出和转入的帮扶责任人不能是同一人", "The households must move to another officer, not the one they leave";
    NotAssignedToOfficer = "not_assigned_to_officer", "所选农户已不在原帮扶责任人名下（可能已被他人转移或结束帮扶），请刷新后重新选择", "A chosen household is no longer assigned to the officer (moved or ended by someone else): reload and choose again";
    UnknownAssignmentStatus = "unknown_assignment_status", "帮扶状态应为 active（在帮）、ended（已结束）或 all（全部）", "The assignment status is active, ended or all";
    AssignmentEnded = "assignment_ended", "您对该户的帮扶已结束，不能再办理此事项", "Your assignment to this household has ended: this action is no longer open to you";
    TooManyAttempts = "too_many_attempts", "尝试次数过多，请稍后再试", "Too many attempts: wait before trying again";
    DeviceInUse = "device_in_use", "此设备已绑定其他用户，请联系管理员解绑", "This device is bound to another user; ask a manager to release it";
    WrongPassword = "wrong_password", "原密码错误", "The current password is wrong";
    WeakPassword = "weak_password", "密码至少8位，且须包含字母和数字", "A password needs at least 8 characters with letters and digits";
    ControlCharacter = "control_character", "内容含有不允许的控制字符", "The text contains control characters that are not allowed";
    UnsupportedEncoding = "unsupported_encoding", "不支持的内容编码", "Unsupported Content-Encoding (use gzip or none)";
    UnsupportedMediaType = "unsupported_media_type", "不支持的内容类型", "Unsupported Content-Type for this endpoint";
    RequestTimeout = "request_timeout", "请求处理超时，请稍后重试", "The request took too long; please retry";
    MethodNotAllowed = "method_not_allowed", "不支持的请求方法", "This method is not allowed on this path";
    FileTooManyRows = "file_too_many_rows", "文件行数超过上限", "The file has more rows than allowed";
    FileTooManyColumns = "file_too_many_columns", "文件列数超过上限", "The file has more columns than allowed";
    FileCellTooLarge = "file_cell_too_large", "文件中有单元格内容过长", "A cell in the file is longer than allowed";
    FileTooLargeUnpacked = "file_too_large_unpacked", "文件解压后过大", "The file is too large once decompressed";
    QuotaExceeded = "quota_exceeded", "附件存储空间已超出限额", "The attachment storage quota is used up";
    ContentTypeNotAllowed = "content_type_not_allowed", "只能上传图片（JPEG、PNG、WebP）或PDF文件", "Only images (JPEG, PNG, WebP) or PDF files may be uploaded";
    ReportTooLarge = "report_too_large", "范围过大，请选择较小的区域", "The region is too large for this report; choose a smaller one";
    Busy = "busy", "服务器繁忙，请稍后重试", "The server is busy; please retry shortly";
    RecipientNotAllowed = "recipient_not_allowed", "只能发送到本人或所管理用户的地址", "You may send only to your own address or to users you manage";
    InvalidOfficer = "invalid_officer", "责任人须为该户当前的帮扶责任人", "The officer must be currently assigned to this household";
    NeedsReview = "needs_review", "该身份证号码须经县级核实后才能登记，已转交审核", "This ID number needs a check by the county before it can be recorded; the change set is kept for review";
    // Household facts written through the admin API (issue 11 item 2).
    NotEditableHere = "not_editable_here", "该字段不能在管理端直接修改：身份信息和家庭关系须经手机同步或成员变更程序", "This field is not changed through the admin API: identity and relation change through sync or a member-change procedure";
    // Register import (issue 11): a file that cannot be a county's register.
    ImportColumnMissing = "import_column_missing", "缺少必需的列", "A required column is missing";
    ImportHouseholdInconsistent = "import_household_inconsistent", "同一户的户信息前后不一致，或与已有户的户编号、户主不符", "The rows of one household disagree, or do not fit the stored household's number or head";
    ImportStatusNotAllowed = "import_status_not_allowed", "导入只能设为在档贫困户、已脱贫或已清除", "An import sets a household registered, exited or removed only";
    ImportNotFinished = "import_not_finished", "导入尚未完成，完成后才有校验报告", "The import has not finished; its report comes when it does";
    // Village exit (003 §一(二)).
    VillageNotReady = "village_not_ready", "该村尚不符合退出条件（贫困发生率、不搬迁不退出或行业部门认定），不能出列", "The village does not meet the exit conditions yet (incidence, relocation first, or the departments' finding); it cannot exit";
    VillageAlreadyExited = "village_already_exited", "该村已按另一年度或文号出列，须先撤销原出列决定", "The village already exited under another year or document; revoke that decision first";
    // The officer app (issue 13): photos named by the phone before their upload.
    AttachmentIdInUse = "attachment_id_in_use", "照片编号已被其他文件使用", "This photo id is already used by another file";
}

/// One field's error inside a rejected change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field, or `""` when the error is about the whole record.
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: ErrorCode) -> Self {
        FieldError {
            field: field.into(),
            code: code.code().to_owned(),
            message_zh: code.message_zh().to_owned(),
            message_en: code.message_en().to_owned(),
        }
    }
}

/// The body of every error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// For `device_revoked`: `drain` or `wipe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Field errors for a rejected request body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ErrorDetail {
    pub fn new(code: ErrorCode) -> Self {
        ErrorDetail {
            code: code.code().to_owned(),
            message_zh: code.message_zh().to_owned(),
            message_en: code.message_en().to_owned(),
            mode: None,
            fields: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate code {}", code.code());
            assert_eq!(ErrorCode::from_code(code.code()), Some(*code));
            let json = serde_json::to_value(code).expect("serialize");
            assert_eq!(json, serde_json::Value::String(code.code().to_owned()));
            assert!(!code.message_zh().is_empty() && !code.message_en().is_empty());
        }
    }
}
