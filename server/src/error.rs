//! What a service refuses, in the service's own terms: a kind of refusal and a stable
//! `ErrorCode` with its Chinese and English messages, never an HTTP status. Services
//! decide who may do what and what the data allows; `http::error` alone turns a kind
//! into a status, in one table. A refusal with a `cause` is our fault: the cause is
//! logged where the refusal is answered, and never sent.

use jingzhun_mobile_api::errors::{ErrorCode, FieldError};

/// Why a request is refused, as the domain sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The input is malformed or fails a validator.
    Invalid,
    /// No valid sign-in (or a revoked device).
    Unauthenticated,
    /// Signed in, but the role, region or assignment does not allow it.
    Forbidden,
    NotFound,
    /// The stored state forbids it now (a step already taken, a duplicate).
    Conflict,
    /// Well-formed and allowed, but the rules refuse it (a notice with no cases, an exit
    /// the standards do not allow).
    Rejected,
    /// Asked about something no longer kept (an expired sync cursor).
    Gone,
    /// The input is bigger than we take.
    TooLarge,
    /// The input is of a type or encoding we do not read.
    Unsupported,
    /// The phone's app is older than the contract allows.
    OutdatedClient,
    /// Too many attempts; try later.
    TooMany,
    /// Too much work at once; try again shortly.
    Busy,
    /// Our fault: a database or programming error, with a cause to log.
    Internal,
}

#[derive(Debug)]
pub struct Refusal {
    pub kind: Kind,
    pub code: ErrorCode,
    /// How a revoked device must treat its data (`drain` or `wipe`).
    pub mode: Option<String>,
    pub fields: Vec<FieldError>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

impl Refusal {
    pub fn new(kind: Kind, code: ErrorCode) -> Refusal {
        Refusal { kind, code, mode: None, fields: Vec::new(), cause: None }
    }
    pub fn invalid(code: ErrorCode) -> Refusal {
        Refusal::new(Kind::Invalid, code)
    }
    pub fn unauthenticated(code: ErrorCode) -> Refusal {
        Refusal::new(Kind::Unauthenticated, code)
    }
    pub fn forbidden() -> Refusal {
        Refusal::new(Kind::Forbidden, ErrorCode::Forbidden)
    }
    pub fn out_of_scope() -> Refusal {
        Refusal::new(Kind::Forbidden, ErrorCode::OutOfScope)
    }
    pub fn not_found() -> Refusal {
        Refusal::new(Kind::NotFound, ErrorCode::NotFound)
    }
    pub fn conflict(code: ErrorCode) -> Refusal {
        Refusal::new(Kind::Conflict, code)
    }
    pub fn rejected(code: ErrorCode) -> Refusal {
        Refusal::new(Kind::Rejected, code)
    }
    pub fn internal(cause: impl std::fmt::Display) -> Refusal {
        Refusal { cause: Some(cause.to_string()), ..Refusal::new(Kind::Internal, ErrorCode::Internal) }
    }
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Refusal {
        self.fields = fields;
        self
    }
    /// The refusal with one field error of the same code.
    pub fn on_field(self, field: &str) -> Refusal {
        let code = self.code;
        self.with_fields(vec![FieldError::new(field, code)])
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(err: sea_orm::DbErr) -> Refusal {
        Refusal::internal(err)
    }
}
