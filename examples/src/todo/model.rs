//! The todo resource, what clients send to create and change one, the list
//! filters, and the rules a todo must follow.

use serde::{Deserialize, Serialize};

use super::error::TodoError;

/// The longest title accepted, in characters (Unicode scalar values).
pub const MAX_TITLE_CHARS: usize = 200;

/// How many todos `GET /todos` returns when the query has no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;

/// The largest `limit` accepted by `GET /todos`.
pub const MAX_LIMIT: u32 = 500;

/// A todo, as stored and as returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Assigned by the database; never reused, even after a delete.
    pub id: i64,
    /// What to do: 1 to [`MAX_TITLE_CHARS`] characters, trimmed.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// When it was created, RFC 3339 in UTC with milliseconds
    /// (`2025-01-31T12:00:00.000Z`).
    pub created_at: String,
}

/// The body of `POST /todos`.
///
/// Unknown fields are rejected (400, with the line and column), so a typo
/// such as `"titel"` is an error instead of a todo without a title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTodo {
    /// The title; see [`validate_title`].
    pub title: String,
    /// Whether it starts done; `false` when absent.
    #[serde(default)]
    pub done: bool,
}

/// The body of `PATCH /todos/:id`: every field is optional, and only the
/// fields present are changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TodoPatch {
    /// A new title; see [`validate_title`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A new state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<bool>,
}

/// The query string of `GET /todos`: `?done=true&limit=20&offset=40`.
///
/// Unknown parameters are rejected (400), so a misspelt filter is an error
/// instead of being ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only todos in this state; both when absent.
    pub done: Option<bool>,
    /// At most this many, 1 to [`MAX_LIMIT`]; [`DEFAULT_LIMIT`] when absent.
    pub limit: Option<u32>,
    /// Skip this many first (ordered by id); 0 when absent.
    pub offset: Option<u32>,
}

/// A checked [`ListQuery`], ready for the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListFilter {
    /// Only todos in this state; both when `None`.
    pub done: Option<bool>,
    /// At most this many.
    pub limit: u32,
    /// Skip this many first.
    pub offset: u32,
}

impl ListQuery {
    /// Checks the limit and fills in the defaults.
    ///
    /// # Errors
    ///
    /// [`TodoError::Validation`] when `limit` is 0 or over [`MAX_LIMIT`].
    pub fn validate(self) -> Result<ListFilter, TodoError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(TodoError::Validation(format!(
                "`limit` must be between 1 and {MAX_LIMIT}, got {limit}"
            )));
        }
        Ok(ListFilter { done: self.done, limit, offset: self.offset.unwrap_or(0) })
    }
}

/// Checks a title and returns it trimmed.
///
/// # Errors
///
/// [`TodoError::Validation`] when the title is empty or only whitespace, or
/// longer than [`MAX_TITLE_CHARS`] characters once trimmed.
///
/// # Examples
///
/// ```
/// use mambo_examples::todo::model::validate_title;
///
/// assert_eq!(validate_title("  buy milk ").unwrap(), "buy milk");
/// assert!(validate_title("   ").is_err());
/// assert!(validate_title(&"x".repeat(201)).is_err());
/// ```
pub fn validate_title(title: &str) -> Result<String, TodoError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(TodoError::Validation("`title` must not be empty".to_owned()));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(TodoError::Validation(format!(
            "`title` must be at most {MAX_TITLE_CHARS} characters, got {chars}"
        )));
    }
    Ok(title.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_rules() {
        let rows: &[(&str, Option<&str>)] = &[
            ("buy milk", Some("buy milk")),
            ("  padded\t", Some("padded")),
            ("", None),
            (" \n\t ", None),
            ("é", Some("é")),
        ];
        for (input, expected) in rows {
            assert_eq!(validate_title(input).ok().as_deref(), *expected, "{input:?}");
        }
        // Characters, not bytes: 200 two-byte characters are fine.
        assert!(validate_title(&"é".repeat(MAX_TITLE_CHARS)).is_ok());
        let err = validate_title(&"x".repeat(MAX_TITLE_CHARS + 1)).unwrap_err();
        assert_eq!(err.to_string(), "`title` must be at most 200 characters, got 201");
    }

    #[test]
    fn list_query_defaults_and_bounds() {
        let filter = ListQuery::default().validate().unwrap();
        assert_eq!(filter, ListFilter { done: None, limit: DEFAULT_LIMIT, offset: 0 });
        let query = ListQuery { done: Some(true), limit: Some(MAX_LIMIT), offset: Some(3) };
        assert_eq!(
            query.validate().unwrap(),
            ListFilter { done: Some(true), limit: MAX_LIMIT, offset: 3 }
        );
        for limit in [0, MAX_LIMIT + 1] {
            let query = ListQuery { limit: Some(limit), ..ListQuery::default() };
            assert!(matches!(query.validate(), Err(TodoError::Validation(_))), "{limit}");
        }
    }
}
