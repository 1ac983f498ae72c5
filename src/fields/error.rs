use thiserror::Error;

/// Why a pattern, preset or selection could not be applied. Every variant says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldsError {
    #[error(
        "\"{pattern}\" is not a field pattern: {reason}; write OBJECT.FIELD, e.g. Account.Name, Account.*, *.Name or !Account.Description"
    )]
    BadPattern { pattern: String, reason: String },
    #[error("unknown object \"{name}\" in \"{pattern}\"{}", suggestion(.closest))]
    UnknownObject {
        pattern: String,
        name: String,
        closest: Option<String>,
    },
    #[error("unknown field \"{object}.{name}\" in \"{pattern}\"{}", suggestion(.closest))]
    UnknownField {
        pattern: String,
        object: String,
        name: String,
        closest: Option<String>,
    },
    #[error(
        "\"{pattern}\" matches no {what} in this org; run `syncdeck fields SOURCE list` to see what exists"
    )]
    NoMatch { pattern: String, what: &'static str },
    #[error(
        "the fields of {objects} are not loaded yet, so \"{pattern}\" cannot be checked; name the object itself (e.g. Opportunity.*) while the daemon runs, which describes it, or expand it in Edit Data Sync"
    )]
    NotLoaded { pattern: String, objects: String },
    #[error("no preset named \"{name}\"{}; available: {available}", suggestion(.closest))]
    UnknownPreset {
        name: String,
        closest: Option<String>,
        available: String,
    },
    #[error("the embedded presets file is invalid: {0}")]
    BadPresets(String),
}

fn suggestion(closest: &Option<String>) -> String {
    match closest {
        Some(c) => format!("; did you mean \"{c}\"?"),
        None => String::new(),
    }
}
