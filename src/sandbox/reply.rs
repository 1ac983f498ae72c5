//! A REST reply in Salesforce's wire shape, before it becomes an HTTP response.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::limits::Usage;

pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// A REST reply before it becomes an HTTP response (the composite resources reuse it).
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
        }
    }
    pub fn json(v: &Value) -> Reply {
        Reply::ok(v.to_string().into_bytes())
    }
    pub fn into_response(self, usage: Option<Usage>) -> Response {
        let mut r = (self.status, self.body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        if let Some(u) = usage {
            if let Ok(v) = HeaderValue::from_str(&u.header()) {
                h.insert("sforce-limit-info", v);
            }
        }
        r
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: e.body(),
            headers: Vec::new(),
        }
    }
}
