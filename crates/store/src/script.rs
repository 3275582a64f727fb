//! Writes that give nothing back, sent to the database in one round trip
//! (issue 19). A lead batch wrote its rows with one statement per table —
//! on SQLite each a hop from the async task to the connection's worker
//! thread and back, on PostgreSQL each a round trip — while none of them
//! needs an answer: their ids are drawn before (see [`crate::ids`]).
//!
//! - On SQLite the statements go one after the other in one string; sqlx's
//!   SQLite driver binds a multi-statement query's arguments statement by
//!   statement, continuing where the one before stopped, which works for
//!   anonymous parameters (`?`) only — the only kind these statements use.
//! - On PostgreSQL they become one statement: every statement but the last
//!   a data-modifying part of its `WITH` (each runs exactly once, whether
//!   or not anything reads it), parameters numbered across all of them.
//!
//! So the statements of one script must not touch the same row twice and
//! must not read what another writes: PostgreSQL runs the parts of one
//! statement on one snapshot. Constraints (a foreign key naming a row
//! another part inserts, a unique index two parts might both fill) are
//! checked at the end of the statement, on both engines, as they would be
//! one statement after the other.

use crate::db::{Conn, Engine};
use crate::error::StoreError;
use sqlx::any::{Any, AnyArguments};
use sqlx::encode::Encode;
use sqlx::types::Type;
use sqlx::{Arguments, AssertSqlSafe};

/// Statements with their arguments, run together by [`Script::run`].
pub struct Script {
    engine: Engine,
    parts: Vec<String>,
    args: AnyArguments,
    /// Placeholders written so far (the next one is numbered after them).
    placeholders: usize,
    failed: Option<String>,
}

impl Script {
    /// An empty script for the engine of `c`.
    pub fn new(c: &Conn) -> Script {
        Script::for_engine(Engine::of(c))
    }

    pub(crate) fn for_engine(engine: Engine) -> Script {
        Script {
            engine,
            parts: Vec::new(),
            args: AnyArguments::default(),
            placeholders: 0,
            failed: None,
        }
    }

    /// How many statements it holds.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The placeholder of the next parameter: `?` on SQLite, `$n` (numbered
    /// across the script) on PostgreSQL. Bind its value with [`Self::bind`],
    /// in the order the placeholders were taken.
    pub(crate) fn param(&mut self) -> String {
        self.placeholders += 1;
        match self.engine {
            Engine::Sqlite => "?".to_owned(),
            Engine::Postgres => format!("${}", self.placeholders),
        }
    }

    /// `(p, ..., p), (...)`: the placeholders of `rows` rows of `cols`
    /// values.
    pub(crate) fn values(&mut self, rows: usize, cols: usize) -> String {
        let first = self.placeholders + 1;
        self.placeholders += rows * cols;
        crate::intake::values_from(self.engine, first, rows, cols)
    }

    /// Adds a statement written with placeholders taken from this script.
    pub(crate) fn push(&mut self, sql: String) {
        self.parts.push(sql);
    }

    /// Binds the value of the next placeholder.
    pub(crate) fn bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        if let Err(e) = self.args.add(value)
            && self.failed.is_none()
        {
            self.failed = Some(e.to_string());
        }
        self
    }

    /// The text sent to the database.
    fn sql(&self) -> String {
        match self.engine {
            Engine::Sqlite => self.parts.join(";\n"),
            Engine::Postgres => {
                let (last, before) = match self.parts.split_last() {
                    Some(split) => split,
                    None => return String::new(),
                };
                if before.is_empty() {
                    return last.clone();
                }
                let mut s = String::from("WITH ");
                for (i, part) in before.iter().enumerate() {
                    if i > 0 {
                        s.push_str(",\n");
                    }
                    s.push_str(&format!("w{i} AS ({part})"));
                }
                s.push('\n');
                s.push_str(last);
                s
            }
        }
    }

    /// Runs every statement, in one round trip (nothing when empty).
    pub async fn run(self, c: &mut Conn) -> Result<(), StoreError> {
        if self.parts.is_empty() {
            return Ok(());
        }
        if let Some(e) = self.failed {
            return Err(StoreError::Db(sqlx::Error::InvalidArgument(e)));
        }
        if self.args.len() != self.placeholders {
            return Err(StoreError::Db(sqlx::Error::InvalidArgument(format!(
                "a script of {} statements has {} placeholders and {} values",
                self.parts.len(),
                self.placeholders,
                self.args.len()
            ))));
        }
        let sql = self.sql();
        sqlx::query_with(AssertSqlSafe(sql), self.args)
            .execute(c)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Script;
    use crate::Engine;

    fn two(engine: Engine) -> Script {
        let mut s = Script::for_engine(engine);
        let v = s.values(2, 2);
        s.push(format!("INSERT INTO a (x, y) VALUES {v}"));
        let p = s.param();
        s.push(format!("DELETE FROM b WHERE id = {p}"));
        s
    }

    #[test]
    fn sqlite_runs_the_statements_in_turn_with_anonymous_parameters() {
        assert_eq!(
            two(Engine::Sqlite).sql(),
            "INSERT INTO a (x, y) VALUES (?, ?), (?, ?);\nDELETE FROM b WHERE id = ?"
        );
    }

    #[test]
    fn postgres_makes_one_statement_numbering_the_parameters_across_it() {
        assert_eq!(
            two(Engine::Postgres).sql(),
            "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2), ($3, $4))\nDELETE FROM b WHERE id = $5"
        );
        let mut one = Script::for_engine(Engine::Postgres);
        let p = one.param();
        one.push(format!("DELETE FROM b WHERE id = {p}"));
        assert_eq!(one.sql(), "DELETE FROM b WHERE id = $1");
    }
}
