//! The Salesforce REST client, OAuth flows and SOQL builder. The wire behaviour this
//! follows is summarised in `docs/ARCHITECTURE.md` ("Salesforce wire facts").

pub mod auth;
pub mod body;
pub mod bulk;
pub mod client;
pub mod errors;
pub mod http;
pub mod limit_info;
pub mod read_plan;
pub mod retry;
pub mod soql;
pub mod types;

pub use auth::{AuthError, Session};
pub use client::{CallHooks, Client, Described, NoHooks, QueryOptions};
pub use errors::{Error, ErrorClass, Fault, Veto};
pub use http::{HttpClient, Timeouts};
pub use limit_info::LimitInfo;
pub use retry::RetryPolicy;
