//! Everything a todo request can fail with, as `{"code": …, "message": …}`.

use mambo::prelude::*;

/// The todo service's errors. The HTTP status is the code's first three
/// digits; none is one of Mambo's own (those end in `00`, or in `01`–`19`
/// under 400, 500 and 503).
///
/// | code  | status | when |
/// |-------|--------|------|
/// | 40401 | 404 | no todo has this id |
/// | 42201 | 422 | the request is well-formed but breaks a rule (empty title, title too long, bad `limit`) |
/// | 40901 | 409 | another open todo has the same title (case-insensitive) |
/// | 50020 | 500 | the database failed; the client gets no details, the log gets them |
#[derive(Debug, ApiError)]
pub enum TodoError {
    /// No todo has this id.
    #[api(code = 40401, message = "todo {0} not found")]
    NotFound(i64),
    /// A rule was broken; the message says which.
    #[api(code = 42201, message = "{0}")]
    Validation(String),
    /// Another open todo already has this title.
    #[api(code = 40901, message = "an open todo titled {0:?} already exists")]
    Conflict(String),
    /// The database failed. The message stays generic: SQL errors are for
    /// the log (the `mambo::error` event carries them), not for clients.
    #[api(code = 50020, message = "database error")]
    Database(#[from] rusqlite::Error),
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn codes_statuses_and_messages() {
        let rows = [
            (TodoError::NotFound(7), 40401, StatusCode::NOT_FOUND, "todo 7 not found"),
            (TodoError::Validation("bad".into()), 42201, StatusCode::UNPROCESSABLE_ENTITY, "bad"),
            (
                TodoError::Conflict("milk".into()),
                40901,
                StatusCode::CONFLICT,
                "an open todo titled \"milk\" already exists",
            ),
            (
                TodoError::Database(rusqlite::Error::QueryReturnedNoRows),
                50020,
                StatusCode::INTERNAL_SERVER_ERROR,
                "database error",
            ),
        ];
        for (error, code, status, message) in rows {
            assert_eq!(
                (error.code(), error.status(), error.to_string().as_str()),
                (code, status, message)
            );
        }
        assert!(TodoError::Database(rusqlite::Error::QueryReturnedNoRows).source().is_some());
        assert!(TodoError::NotFound(1).source().is_none());
    }
}
