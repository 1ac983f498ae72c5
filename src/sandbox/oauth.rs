//! OAuth in Salesforce's dialect: device flow (`response_type=device_code` on the token
//! endpoint, polled with `grant_type=device&code=`), authorization code with PKCE (S256) and
//! a loopback redirect, refresh tokens, revocation, identity URL and userinfo.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

use super::state::{SandboxUser, State, lock};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// User codes avoid look-alike characters (0/O, 1/I).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const SCOPE: &str = "refresh_token web api";
/// Unclaimed device codes and authorization codes expire after this long.
const CODE_TTL: Duration = Duration::from_secs(600);

pub fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut buf = vec![0u8; len];
    // SystemRandom only fails when the OS has no entropy source; fall back to a clock mix.
    if SystemRandom::new().fill(&mut buf).is_err() {
        let seed = State::now_ms() as u64;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (super::datagen::mix(seed ^ i as u64) & 0xff) as u8;
        }
    }
    buf.iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

struct Session {
    user: SandboxUser,
    refresh: Option<String>,
    last_used: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved(SandboxUser),
    Denied,
}

struct DeviceCode {
    user_code: String,
    created: Instant,
    last_poll: Option<Instant>,
    decision: Option<Decision>,
}

struct AuthCode {
    challenge: Option<String>,
    redirect_uri: String,
    user: SandboxUser,
    created: Instant,
}

#[derive(Default)]
pub struct AuthState {
    access: HashMap<String, Session>,
    refresh: HashMap<String, SandboxUser>,
    devices: HashMap<String, DeviceCode>,
    codes: HashMap<String, AuthCode>,
}

/// A pending device authorization, as listed by `/__sandbox/pending`.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct PendingDevice {
    pub user_code: String,
    pub age_ms: u64,
}

pub struct OAuthReply {
    pub status: StatusCode,
    pub body: Value,
}

fn oauth_error(error: &str, description: &str) -> OAuthReply {
    OAuthReply {
        status: StatusCode::BAD_REQUEST,
        body: json!({"error": error, "error_description": description}),
    }
}

impl State {
    /// The user behind a bearer token; touching it keeps it alive.
    pub fn check_access(&self, token: &str) -> Option<SandboxUser> {
        let mut auth = lock(&self.auth);
        let now = Instant::now();
        let expired = {
            let s = auth.access.get_mut(token)?;
            if now.duration_since(s.last_used) > self.token_idle_timeout {
                true
            } else {
                s.last_used = now;
                return Some(s.user);
            }
        };
        if expired {
            auth.access.remove(token);
        }
        None
    }

    fn issue(
        &self,
        user: SandboxUser,
        with_refresh: Option<String>,
        include_refresh: bool,
    ) -> OAuthReply {
        let access = format!("{}!{}", self.org_id, random_string(ALNUM, 96));
        let mut auth = lock(&self.auth);
        let refresh = with_refresh.unwrap_or_else(|| {
            let r = format!("5Aep{}", random_string(ALNUM, 83));
            auth.refresh.insert(r.clone(), user);
            r
        });
        auth.access.insert(
            access.clone(),
            Session {
                user,
                refresh: Some(refresh.clone()),
                last_used: Instant::now(),
            },
        );
        drop(auth);
        lock(&self.log).counters.tokens_issued += 1;
        let id = format!(
            "{}/id/{}/{}",
            self.base_url,
            self.org_id,
            self.user_id(user)
        );
        let issued_at = State::now_ms().to_string();
        let mut body = json!({
            "access_token": access,
            "signature": self.sign(&format!("{id}{issued_at}")),
            "scope": SCOPE,
            "instance_url": self.base_url,
            "id": id,
            "token_type": "Bearer",
            "issued_at": issued_at,
        });
        if include_refresh {
            body["refresh_token"] = Value::String(refresh);
        }
        OAuthReply {
            status: StatusCode::OK,
            body,
        }
    }

    fn sign(&self, text: &str) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.client_secret.as_bytes());
        STANDARD.encode(ring::hmac::sign(&key, text.as_bytes()).as_ref())
    }

    /// `POST /services/oauth2/token`.
    pub fn token_endpoint(&self, p: &HashMap<String, String>) -> OAuthReply {
        let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let grant = get("grant_type");
        // A refresh may omit client_id (the refresh token identifies the app); others may not.
        let client_ok = get("client_id") == Some(self.client_id.as_str())
            || (grant == Some("refresh_token") && get("client_id").is_none());
        if !client_ok {
            return oauth_error("invalid_client_id", "client identifier invalid");
        }
        if get("client_secret").is_some_and(|s| s != self.client_secret) {
            return oauth_error("invalid_client", "invalid client credentials");
        }
        if get("response_type") == Some("device_code") {
            return self.start_device();
        }
        match grant {
            Some("device") => self.poll_device(get("code").unwrap_or("")),
            Some("authorization_code") => self.redeem_code(
                get("code").unwrap_or(""),
                get("redirect_uri").unwrap_or(""),
                get("code_verifier"),
            ),
            Some("refresh_token") => {
                let token = get("refresh_token").unwrap_or("");
                let user = lock(&self.auth).refresh.get(token).copied();
                match user {
                    Some(u) => self.issue(u, Some(token.to_string()), false),
                    None => oauth_error("invalid_grant", "expired access/refresh token"),
                }
            }
            Some(_) => oauth_error("unsupported_grant_type", "grant type not supported"),
            None => oauth_error("invalid_request", "missing grant_type"),
        }
    }

    fn start_device(&self) -> OAuthReply {
        let device_code = random_string(ALNUM, 48);
        let user_code = random_string(USER_CODE_ALPHABET, 8);
        lock(&self.auth).devices.insert(
            device_code.clone(),
            DeviceCode {
                user_code: user_code.clone(),
                created: Instant::now(),
                last_poll: None,
                decision: None,
            },
        );
        OAuthReply {
            status: StatusCode::OK,
            body: json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": format!("{}/setup/connect", self.base_url),
                "interval": self.device_poll_interval.as_secs().max(1),
            }),
        }
    }

    fn poll_device(&self, code: &str) -> OAuthReply {
        let now = Instant::now();
        let mut auth = lock(&self.auth);
        let Some(dc) = auth.devices.get_mut(code) else {
            return oauth_error("invalid_grant", "invalid device code");
        };
        if now.duration_since(dc.created) > CODE_TTL {
            auth.devices.remove(code);
            return oauth_error("expired_token", "the device code has expired");
        }
        if dc.decision.is_none() {
            if let Some(delay) = self.auto_approve {
                if now.duration_since(dc.created) >= delay {
                    dc.decision = Some(Decision::Approved(SandboxUser::Admin));
                }
            }
        }
        let too_fast = dc
            .last_poll
            .is_some_and(|t| now.duration_since(t) < self.device_poll_interval);
        dc.last_poll = Some(now);
        match dc.decision {
            Some(Decision::Approved(user)) => {
                auth.devices.remove(code);
                drop(auth);
                self.issue(user, None, true)
            }
            Some(Decision::Denied) => {
                auth.devices.remove(code);
                oauth_error("access_denied", "end-user denied authorization")
            }
            None if too_fast => {
                oauth_error("slow_down", "polling too frequently; wait for the interval")
            }
            None => oauth_error("authorization_pending", "authorization pending"),
        }
    }

    /// Approves or denies pending device codes (all of them when `user_code` is None).
    pub fn decide_device(&self, user_code: Option<&str>, decision: Decision) -> usize {
        let mut auth = lock(&self.auth);
        let mut n = 0;
        for dc in auth.devices.values_mut() {
            let hit = user_code.is_none_or(|c| c.trim().eq_ignore_ascii_case(&dc.user_code));
            if hit && dc.decision.is_none() {
                dc.decision = Some(decision);
                n += 1;
            }
        }
        n
    }

    pub fn pending_devices(&self) -> Vec<PendingDevice> {
        let auth = lock(&self.auth);
        let now = Instant::now();
        auth.devices
            .values()
            .filter(|d| d.decision.is_none())
            .map(|d| PendingDevice {
                user_code: d.user_code.clone(),
                age_ms: now.duration_since(d.created).as_millis() as u64,
            })
            .collect()
    }

    /// Mints an authorization code for the web-server flow.
    pub fn grant_code(
        &self,
        user: SandboxUser,
        redirect_uri: &str,
        challenge: Option<&str>,
    ) -> String {
        let code = format!("aPrx{}==", random_string(ALNUM, 60));
        lock(&self.auth).codes.insert(
            code.clone(),
            AuthCode {
                challenge: challenge.map(str::to_string),
                redirect_uri: redirect_uri.to_string(),
                user,
                created: Instant::now(),
            },
        );
        code
    }

    fn redeem_code(&self, code: &str, redirect_uri: &str, verifier: Option<&str>) -> OAuthReply {
        let Some(ac) = lock(&self.auth).codes.remove(code) else {
            return oauth_error("invalid_grant", "invalid authorization code");
        };
        if ac.created.elapsed() > CODE_TTL {
            return oauth_error("invalid_grant", "expired authorization code");
        }
        if ac.redirect_uri != redirect_uri {
            return oauth_error(
                "redirect_uri_mismatch",
                "redirect_uri must match configuration",
            );
        }
        if let Some(challenge) = &ac.challenge {
            let ok = verifier.is_some_and(|v| {
                URL_SAFE_NO_PAD
                    .encode(ring::digest::digest(&ring::digest::SHA256, v.as_bytes()).as_ref())
                    == *challenge
            });
            if !ok {
                return oauth_error("invalid_grant", "invalid code verifier");
            }
        }
        self.issue(ac.user, None, true)
    }

    /// `POST /services/oauth2/revoke`: revoking a refresh token ends its access tokens too.
    pub fn revoke(&self, token: &str) -> bool {
        let mut auth = lock(&self.auth);
        if auth.access.remove(token).is_some() {
            return true;
        }
        if auth.refresh.remove(token).is_some() {
            auth.access
                .retain(|_, s| s.refresh.as_deref() != Some(token));
            return true;
        }
        false
    }

    pub fn revoke_all(&self) -> usize {
        let mut auth = lock(&self.auth);
        let n = auth.access.len() + auth.refresh.len();
        auth.access.clear();
        auth.refresh.clear();
        n
    }

    /// The identity document for `user` (served at the token's `id` URL).
    pub fn identity(&self, user: SandboxUser) -> Value {
        let uid = self.user_id(user);
        let (first, last, username) = match user {
            SandboxUser::Admin => ("Sandbox", "Admin", "admin@sandbox.syncdeck.test"),
            SandboxUser::Standard => ("Sandbox", "User", "user@sandbox.syncdeck.test"),
        };
        let b = &self.base_url;
        json!({
            "id": format!("{b}/id/{}/{uid}", self.org_id),
            "asserted_user": true,
            "user_id": uid,
            "organization_id": self.org_id,
            "username": username,
            "nick_name": format!("{}{}", first.to_lowercase(), last.to_lowercase()),
            "display_name": format!("{first} {last}"),
            "email": username,
            "email_verified": true,
            "first_name": first,
            "last_name": last,
            "timezone": "America/Los_Angeles",
            "photos": {"picture": format!("{b}/profilephoto/005/F"), "thumbnail": format!("{b}/profilephoto/005/T")},
            "active": true,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": -28_800_000,
            "last_modified_date": "2024-01-01T00:00:00.000+0000",
            "is_app_installed": true,
            "urls": {
                "enterprise": format!("{b}/services/Soap/c/{{version}}/{}", self.org_id),
                "metadata": format!("{b}/services/Soap/m/{{version}}/{}", self.org_id),
                "partner": format!("{b}/services/Soap/u/{{version}}/{}", self.org_id),
                "rest": format!("{b}/services/data/v{{version}}/"),
                "sobjects": format!("{b}/services/data/v{{version}}/sobjects/"),
                "search": format!("{b}/services/data/v{{version}}/search/"),
                "query": format!("{b}/services/data/v{{version}}/query/"),
                "recent": format!("{b}/services/data/v{{version}}/recent/"),
                "profile": format!("{b}/{uid}"),
            },
        })
    }

    pub fn userinfo(&self, user: SandboxUser) -> Value {
        let id = self.identity(user);
        json!({
            "sub": id["id"], "user_id": id["user_id"], "organization_id": id["organization_id"],
            "preferred_username": id["username"], "nickname": id["nick_name"], "name": id["display_name"],
            "email": id["email"], "email_verified": true, "given_name": id["first_name"],
            "family_name": id["last_name"], "zoneinfo": id["timezone"], "user_type": "STANDARD",
            "active": true, "locale": "en_US", "language": "en_US",
        })
    }
}

/// Whether `uri` is an http(s) URL on a loopback host (the only redirects the sandbox allows).
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    let host_ok = match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    host_ok && matches!(u.scheme(), "http" | "https")
}

/// Parses a `multipart/form-data` body into its text fields (what sfdx-core sends).
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Option<HashMap<String, String>> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()?
        .trim_matches('"');
    let text = String::from_utf8_lossy(body);
    let delim = format!("--{boundary}");
    let mut out = HashMap::new();
    for part in text.split(delim.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (head, value) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))?;
        let name = head
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()?
            .trim_matches('"')
            .to_string();
        let value = value
            .strip_suffix("\r\n")
            .or_else(|| value.strip_suffix('\n'))
            .unwrap_or(value);
        out.insert(name, value.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_only() {
        assert!(is_loopback_redirect("http://127.0.0.1:8123/callback"));
        assert!(is_loopback_redirect("http://localhost/cb"));
        assert!(is_loopback_redirect("http://[::1]:9/cb"));
        assert!(!is_loopback_redirect("https://evil.example.com/cb"));
        assert!(!is_loopback_redirect("not a url"));
    }

    #[test]
    fn multipart_fields_are_read() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"response_type\"\r\n\r\ndevice_code\r\n--XyZ--\r\n";
        let m = parse_multipart("multipart/form-data; boundary=XyZ", body.as_bytes()).unwrap();
        assert_eq!(m["client_id"], "abc");
        assert_eq!(m["response_type"], "device_code");
    }
}
