//! Field-level validation failures, collected so that one response names every bad field.

use serde::Serialize;

/// One offending field: a JSON path (`email`, `linked_accounts[1].address`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A failure of `field` described by `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An accumulator of field errors for one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    /// Records a failure of `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value of a field check, or records its failure and yields `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// How many failures were recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no failure was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every recorded failure.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// `value` if nothing failed, else every recorded failure.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }
}

/// The JSON type name of a value, for "expected a string, got a number" messages.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Takes a string field, or explains the type it had.
pub fn expect_str<'v>(field: &str, value: &'v serde_json::Value) -> Result<&'v str, FieldError> {
    value.as_str().ok_or_else(|| {
        FieldError::new(field, format!("must be a string, got {}", json_type(value)))
    })
}

/// Checks the length in characters of a free-text value and that it holds no control characters.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(FieldError::new(
            field,
            format!("must be {min} to {max} characters long, got {chars}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if value.trim() != value {
        return Err(FieldError::new(
            field,
            "must not start or end with white space",
        ));
    }
    Ok(())
}
