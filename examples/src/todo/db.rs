//! The todo store: one SQLite connection (`rusqlite`, SQLite compiled in),
//! used from the async handlers through tokio's blocking pool.
//!
//! # Why one connection behind a `Mutex`, on `spawn_blocking`
//!
//! - **Blocking calls stay off the async workers.** Every SQLite call is
//!   synchronous, and with a file a commit waits for the disk (`fsync`),
//!   which can take milliseconds. Run on a runtime worker, that would stall
//!   every other connection the worker serves. [`Db::call`] runs the closure
//!   with [`tokio::task::spawn_blocking`], so only a blocking-pool thread
//!   waits; the cost is one hand-off to that pool per query (microseconds).
//! - **One connection, not a pool.** An in-memory database (`:memory:`)
//!   belongs to its connection: a pool would give each connection its own
//!   empty database. SQLite also lets only one writer in at a time, so a
//!   pool would speed up reads only. The `Mutex` serializes the queries and
//!   is locked on the blocking thread, never held across an `.await`.
//!   A read-heavy service on a file would add a few read-only connections in
//!   WAL mode (already turned on here for files); this example does not need
//!   them.
//! - **Queries queue as tasks, not as threads.** Only one query can hold
//!   the connection, so the others wait on a one-permit semaphore *before*
//!   they go to the blocking pool: a burst of thousands of requests parks
//!   small futures, not up to 512 blocking threads each parked on the
//!   `Mutex` with its stack and malloc arena (tens of megabytes, seen by
//!   `cargo xtask attack --case h2-zero-window`).
//! - **Each operation is one statement** (`INSERT … RETURNING`,
//!   `UPDATE … SET col = coalesce(?, col) … RETURNING`), so it is atomic
//!   without an explicit transaction, and the lock is held for one round
//!   trip.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::Semaphore;

use super::error::TodoError;
use super::model::{ListFilter, Todo};

/// The path that opens a fresh in-memory database instead of a file.
pub const IN_MEMORY: &str = ":memory:";

/// The schema, applied at every open (each statement is idempotent).
///
/// - `AUTOINCREMENT`: ids are never reused, so a deleted todo's id stays a 404.
/// - The partial unique index: no two *open* todos may share a title
///   (case-insensitive); a done todo's title may be used again.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS todos (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        title      TEXT    NOT NULL,
        done       INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
        created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE UNIQUE INDEX IF NOT EXISTS todos_open_title
        ON todos (title COLLATE NOCASE) WHERE done = 0;
";

/// The columns every query returns, in [`todo_from_row`]'s order; a macro so
/// that `concat!` builds each query at compile time.
macro_rules! columns {
    () => {
        "id, title, done, created_at"
    };
}

/// The todo store. Cloning it is cheap: clones share the connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// One permit: the right to take a blocking thread to the connection.
    turn: Arc<Semaphore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database file at `path`, or a fresh
    /// in-memory database when `path` is [`IN_MEMORY`], and applies the
    /// schema.
    ///
    /// # Errors
    ///
    /// The file cannot be opened or created, or is not a SQLite database.
    pub fn open(path: impl AsRef<Path>) -> Result<Db, rusqlite::Error> {
        let path = path.as_ref();
        let conn = if path == Path::new(IN_MEMORY) {
            Connection::open_in_memory()?
        } else {
            let conn = Connection::open(path)?;
            // Readers no longer wait for a writer's commit, and commits
            // fsync less often (still durable across a process crash).
            // (`journal_mode` answers with the mode it ended up in.)
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| {
                row.get::<_, String>(0)
            })?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn
        };
        // Another process holding the file's write lock: wait a little
        // instead of failing at once with SQLITE_BUSY.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db { conn: Arc::new(Mutex::new(conn)), turn: Arc::new(Semaphore::new(1)) })
    }

    /// A fresh in-memory database.
    ///
    /// # Errors
    ///
    /// SQLite could not allocate the database.
    pub fn open_in_memory() -> Result<Db, rusqlite::Error> {
        Db::open(IN_MEMORY)
    }

    /// Runs `f` with the connection on tokio's blocking pool; see the
    /// [module docs](self) for why.
    ///
    /// A database failure reaches the client as a bare `50020`; Mambo logs
    /// it with the SQL error (its `mambo::error` event carries the source
    /// chain, the route and the request id). A panic in `f` is resumed on
    /// the calling task, where Mambo turns it into a 500.
    ///
    /// # Errors
    ///
    /// Whatever `f` returns.
    pub async fn call<T, F>(&self, f: F) -> Result<T, TodoError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, TodoError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        // Moved into the blocking closure: the next query waits for this
        // one to finish even if its caller is cancelled meanwhile.
        let turn =
            Arc::clone(&self.turn).acquire_owned().await.expect("the semaphore is never closed");
        let result = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            // A panic while the lock was held leaves the connection usable
            // (SQLite rolls back what was not committed), so go on.
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await;
        match result {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // Only when the runtime is shutting down.
            Err(join) => panic!("the database task was cancelled: {join}"),
        }
    }

    /// Checks that the database answers, and counts the todos.
    ///
    /// # Errors
    ///
    /// [`TodoError::Database`].
    pub async fn count(&self) -> Result<u64, TodoError> {
        let count: i64 = self
            .call(|conn| Ok(conn.query_row("SELECT count(*) FROM todos", [], |row| row.get(0))?))
            .await?;
        // `count(*)` is never negative.
        Ok(count.unsigned_abs())
    }

    /// The todos that pass `filter`, by id.
    ///
    /// # Errors
    ///
    /// [`TodoError::Database`].
    pub async fn list(&self, filter: ListFilter) -> Result<Vec<Todo>, TodoError> {
        self.call(move |conn| {
            let mut statement = conn.prepare_cached(concat!(
                "SELECT ",
                columns!(),
                " FROM todos WHERE ?1 IS NULL OR done = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"
            ))?;
            let rows = statement
                .query_map(params![filter.done, filter.limit, filter.offset], todo_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// The todo with this id.
    ///
    /// # Errors
    ///
    /// [`TodoError::NotFound`], [`TodoError::Database`].
    pub async fn get(&self, id: i64) -> Result<Todo, TodoError> {
        self.call(move |conn| {
            conn.prepare_cached(concat!("SELECT ", columns!(), " FROM todos WHERE id = ?1"))?
                .query_row([id], todo_from_row)
                .optional()?
                .ok_or(TodoError::NotFound(id))
        })
        .await
    }

    /// Stores a new todo; `title` must already be [validated].
    ///
    /// # Errors
    ///
    /// [`TodoError::Conflict`] when another open todo has this title,
    /// [`TodoError::Database`].
    ///
    /// [validated]: super::model::validate_title
    pub async fn insert(&self, title: String, done: bool) -> Result<Todo, TodoError> {
        self.call(move |conn| {
            let inserted = conn
                .prepare_cached(concat!(
                    "INSERT INTO todos (title, done) VALUES (?1, ?2) RETURNING ",
                    columns!()
                ))?
                .query_row(params![title, done], todo_from_row);
            match inserted {
                Err(error) if is_unique_violation(&error) => Err(TodoError::Conflict(title)),
                other => Ok(other?),
            }
        })
        .await
    }

    /// Changes the fields that are `Some`; `title` must already be
    /// [validated]. With nothing to change, returns the todo as it is.
    ///
    /// # Errors
    ///
    /// [`TodoError::NotFound`], [`TodoError::Conflict`] when the todo would
    /// become an open todo with the title of another one,
    /// [`TodoError::Database`].
    ///
    /// [validated]: super::model::validate_title
    pub async fn update(
        &self,
        id: i64,
        title: Option<String>,
        done: Option<bool>,
    ) -> Result<Todo, TodoError> {
        self.call(move |conn| {
            let updated = conn
                .prepare_cached(concat!(
                    "UPDATE todos SET title = coalesce(?2, title), done = coalesce(?3, done) \
                     WHERE id = ?1 RETURNING ",
                    columns!()
                ))?
                .query_row(params![id, title, done], todo_from_row)
                .optional();
            match updated {
                Ok(Some(todo)) => Ok(todo),
                Ok(None) => Err(TodoError::NotFound(id)),
                Err(error) if is_unique_violation(&error) => {
                    // Name the title that clashed: the new one, or the
                    // todo's own when only `done` changed.
                    let title = match title {
                        Some(title) => title,
                        None => {
                            conn.query_row("SELECT title FROM todos WHERE id = ?1", [id], |row| {
                                row.get(0)
                            })?
                        }
                    };
                    Err(TodoError::Conflict(title))
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    /// Deletes the todo with this id.
    ///
    /// # Errors
    ///
    /// [`TodoError::NotFound`], [`TodoError::Database`].
    pub async fn delete(&self, id: i64) -> Result<(), TodoError> {
        self.call(move |conn| {
            match conn.prepare_cached("DELETE FROM todos WHERE id = ?1")?.execute([id])? {
                0 => Err(TodoError::NotFound(id)),
                _ => Ok(()),
            }
        })
        .await
    }
}

/// Reads a row of [`columns!`].
fn todo_from_row(row: &Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo { id: row.get(0)?, title: row.get(1)?, done: row.get(2)?, created_at: row.get(3)? })
}

/// Whether `error` is a `UNIQUE` constraint failing.
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    error.sqlite_extended_error_code() == Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> ListFilter {
        ListFilter { done: None, limit: 100, offset: 0 }
    }

    #[tokio::test]
    async fn crud_round_trip() {
        let db = Db::open_in_memory().unwrap();
        let milk = db.insert("milk".into(), false).await.unwrap();
        let eggs = db.insert("eggs".into(), true).await.unwrap();
        assert!(eggs.id > milk.id);
        assert!(milk.created_at.ends_with('Z'), "{}", milk.created_at);
        assert_eq!(db.get(milk.id).await.unwrap(), milk);
        assert_eq!(db.list(all()).await.unwrap(), [milk.clone(), eggs.clone()]);
        let ids = |todos: Vec<Todo>| todos.into_iter().map(|todo| todo.id).collect::<Vec<_>>();
        assert_eq!(
            ids(db.list(ListFilter { done: Some(true), ..all() }).await.unwrap()),
            [eggs.id]
        );
        assert_eq!(
            ids(db.list(ListFilter { done: Some(false), ..all() }).await.unwrap()),
            [milk.id]
        );
        assert_eq!(
            ids(db.list(ListFilter { limit: 1, offset: 1, ..all() }).await.unwrap()),
            [eggs.id]
        );

        let renamed = db.update(milk.id, Some("oat milk".into()), None).await.unwrap();
        assert_eq!((renamed.title.as_str(), renamed.done), ("oat milk", false));
        let unchanged = db.update(milk.id, None, None).await.unwrap();
        assert_eq!(unchanged, renamed);

        db.delete(milk.id).await.unwrap();
        assert!(matches!(db.get(milk.id).await, Err(TodoError::NotFound(id)) if id == milk.id));
        assert!(matches!(db.delete(milk.id).await, Err(TodoError::NotFound(_))));
        assert!(matches!(db.update(milk.id, None, Some(true)).await, Err(TodoError::NotFound(_))));
        assert_eq!(db.count().await.unwrap(), 1);
        // Ids are not reused.
        assert!(db.insert("bread".into(), false).await.unwrap().id > eggs.id);
    }

    #[tokio::test]
    async fn open_titles_are_unique_ignoring_case() {
        let db = Db::open_in_memory().unwrap();
        let milk = db.insert("Milk".into(), false).await.unwrap();
        assert!(
            matches!(db.insert("milk".into(), false).await, Err(TodoError::Conflict(t)) if t == "milk")
        );
        // A done todo may share a title with an open one...
        let done = db.insert("MILK".into(), true).await.unwrap();
        // ...until it is reopened.
        let err = db.update(done.id, None, Some(false)).await.unwrap_err();
        assert!(matches!(&err, TodoError::Conflict(t) if t == "MILK"), "{err:?}");
        db.update(milk.id, None, Some(true)).await.unwrap();
        assert!(!db.update(done.id, None, Some(false)).await.unwrap().done);
    }
}
