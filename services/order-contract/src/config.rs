//! Configuration read once at init from the environment.
//!
//! Every variable the code reads goes through [`required`], [`optional`] or [`parsed_or`]; a variable named by
//! the topology ([`crate::topology::Queue::url_variable`]) is read by the wiring from the table. The contract
//! check (`tests/contract`) relies on both to prove Terraform and compose.yaml set each one.

/// A configuration variable is missing or malformed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The variable is not set (or empty).
    #[error("environment variable {0} must be set")]
    Missing(String),
    /// The variable is set but does not parse.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

/// Reads a variable that must be present and non-empty.
pub fn required(name: &str) -> Result<String, ConfigError> {
    optional(name).ok_or_else(|| ConfigError::Missing(name.to_owned()))
}

/// Reads a variable that may be absent; an empty value counts as absent.
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Parses an optional variable (surrounding blanks ignored), falling back to `default` when it is absent.
pub fn parsed_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                reason: e.to_string(),
            }),
    }
}

/// Parses a variable that must be present.
pub fn parsed<T: std::str::FromStr>(name: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    required(name)?
        .trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            name: name.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_count_as_absent_and_bad_ones_name_the_variable() {
        // A name no other test or tool sets.
        let name = "ORDER_CONTRACT_TEST_VARIABLE";
        // SAFETY: this test alone touches this variable, and nextest runs each test in its own process.
        unsafe { std::env::set_var(name, "  ") };
        assert!(optional(name).is_none());
        assert_eq!(parsed_or(name, 7u32).unwrap(), 7);
        unsafe { std::env::set_var(name, " 12 ") };
        assert_eq!(parsed_or(name, 7u32).unwrap(), 12);
        unsafe { std::env::set_var(name, "twelve") };
        let err = parsed_or(name, 7u32).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
}
