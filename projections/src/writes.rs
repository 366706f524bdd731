//! The statements a projection makes of a batch of events, sent to PostgreSQL together.
//!
//! Projections never read inside `apply`: they only write. So the runner can collect every statement of a batch and
//! send them back to back without waiting for each answer (one round trip for the batch instead of one per row), and
//! a run of the same single-row `INSERT … VALUES (…)` becomes one multi-row `INSERT`. Statements still run in the
//! order they were made, inside the batch's transaction.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;

use crate::ProjectionError;

/// One statement parameter, owned, so that statements can wait in the batch.
pub type Param = Box<dyn ToSql + Sync + Send>;

/// Builds a `Vec<Param>` from expressions of owned values.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as $crate::writes::Param),*]
    };
}

/// Rows per merged `INSERT`, largest first: few distinct statement texts, so few prepared statements per session.
const MERGE_SIZES: [usize; 3] = [100, 10, 1];

/// PostgreSQL's limit of parameters in one statement.
const MAX_PARAMETERS: usize = 65_535;

/// The statements of one batch, in order.
#[derive(Default)]
pub struct Writes {
    statements: Vec<(&'static str, Vec<Param>)>,
}

impl Writes {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a statement; it runs when the batch is sent, after the statements queued before it.
    pub fn execute(&mut self, sql: &'static str, params: Vec<Param>) {
        self.statements.push((sql, params));
    }

    /// How many statements are queued.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Sends every statement in `tx`, pipelined, and waits for all answers; the first error is returned (PostgreSQL
    /// refuses everything after it in the transaction).
    pub async fn send(self, tx: &Transaction<'_>) -> Result<(), ProjectionError> {
        let planned = plan(&self.statements);
        let mut statements = Vec::with_capacity(planned.len());
        for (sql, _) in &planned {
            statements.push(tx.prepare_cached(sql).await?);
        }
        let mut pending: Vec<Pending<'_, u64, tokio_postgres::Error>> =
            Vec::with_capacity(planned.len());
        for ((_, rows), statement) in planned.iter().zip(&statements) {
            let params: Vec<&(dyn ToSql + Sync)> = rows
                .iter()
                .flat_map(|row| row.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)))
                .collect();
            pending.push(Box::pin(
                async move { tx.execute(statement, &params).await },
            ));
        }
        in_order(pending).await?;
        Ok(())
    }
}

/// A statement sent and not yet answered.
type Pending<'a, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>>;

type Planned<'a> = (String, Vec<&'a [Param]>);

/// Groups runs of the same mergeable `INSERT` into multi-row statements; everything else stays as it is.
fn plan<'a>(statements: &'a [(&'static str, Vec<Param>)]) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    let mut index = 0;
    while index < statements.len() {
        let (sql, params) = &statements[index];
        let run = statements[index..]
            .iter()
            .take_while(|(other, _)| other == sql)
            .count();
        match values_tuple(sql) {
            Some((head, tuple)) if run > 1 && !params.is_empty() => {
                let mut start = index;
                let end = index + run;
                while start < end {
                    let size = MERGE_SIZES
                        .into_iter()
                        .find(|size| *size <= end - start && size * params.len() <= MAX_PARAMETERS)
                        .unwrap_or(1);
                    let rows = statements[start..start + size]
                        .iter()
                        .map(|(_, p)| p.as_slice())
                        .collect();
                    planned.push((merged(head, tuple, params.len(), size), rows));
                    start += size;
                }
            }
            _ => {
                for (sql, params) in &statements[index..index + run] {
                    planned.push(((*sql).to_owned(), vec![params.as_slice()]));
                }
            }
        }
        index += run;
    }
    planned
}

/// Splits `INSERT INTO t (…) VALUES (…)` into its head and its one tuple; None for any other statement (an
/// `ON CONFLICT` or `RETURNING` clause, a `SELECT`, an `UPDATE`), which must run row by row.
fn values_tuple(sql: &str) -> Option<(&str, &str)> {
    let sql = sql.trim();
    if !sql.starts_with("INSERT INTO")
        || !sql.ends_with(')')
        || sql.contains("ON CONFLICT")
        || sql.contains("RETURNING")
    {
        return None;
    }
    let (head, tuple) = sql.split_once(" VALUES ")?;
    let tuple = tuple.trim();
    (tuple.starts_with('(') && !tuple.contains(" VALUES ") && !tuple.contains("SELECT"))
        .then_some((head, tuple))
}

/// The multi-row statement of `rows` copies of `tuple`, parameters renumbered row after row.
fn merged(head: &str, tuple: &str, width: usize, rows: usize) -> String {
    if rows == 1 {
        return format!("{head} VALUES {tuple}");
    }
    let mut sql = format!("{head} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let mut chars = tuple.chars().peekable();
        while let Some(c) = chars.next() {
            sql.push(c);
            if c != '$' {
                continue;
            }
            let mut number = String::new();
            while let Some(digit) = chars.peek().filter(|d| d.is_ascii_digit()) {
                number.push(*digit);
                chars.next();
            }
            let n: usize = number.parse().unwrap_or(0);
            sql.push_str(&(n + row * width).to_string());
        }
    }
    sql
}

/// Polls every future in the order given until all are done, so that requests leave in that order (tokio-postgres
/// sends a request when its future is first polled); returns the first error.
async fn in_order<T, E>(mut futures: Vec<Pending<'_, T, E>>) -> Result<(), E> {
    let mut done = vec![false; futures.len()];
    let mut first_error = None;
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (future, done) in futures.iter_mut().zip(done.iter_mut()) {
            if *done {
                continue;
            }
            match future.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    *done = true;
                    if let (Err(error), None) = (result, &first_error) {
                        first_error = Some(error);
                    }
                }
                Poll::Pending => all = false,
            }
        }
        if all {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_the_same_insert_becomes_multi_row_statements() {
        let mut writes = Writes::new();
        for n in 0..123_i32 {
            writes.execute(
                "INSERT INTO t (a, b) VALUES ($1, $2::int4 + 1)",
                params![n, n],
            );
        }
        let planned = plan(&writes.statements);
        let sizes: Vec<usize> = planned.iter().map(|(_, rows)| rows.len()).collect();
        assert_eq!(sizes, vec![100, 10, 10, 1, 1, 1]);
        assert!(planned[1].0.ends_with("($1, $2::int4 + 1), ($3, $4::int4 + 1), ($5, $6::int4 + 1), ($7, $8::int4 + 1), ($9, $10::int4 + 1), ($11, $12::int4 + 1), ($13, $14::int4 + 1), ($15, $16::int4 + 1), ($17, $18::int4 + 1), ($19, $20::int4 + 1)"));
    }

    #[test]
    fn other_statements_keep_their_place_and_are_not_merged() {
        let mut writes = Writes::new();
        writes.execute("INSERT INTO t (a) VALUES ($1)", params![1_i32]);
        writes.execute("UPDATE t SET a = $1", params![2_i32]);
        writes.execute("UPDATE t SET a = $1", params![3_i32]);
        writes.execute(
            "INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO NOTHING",
            params![4_i32],
        );
        writes.execute(
            "INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO NOTHING",
            params![5_i32],
        );
        let planned = plan(&writes.statements);
        let sql: Vec<&str> = planned.iter().map(|(sql, _)| sql.as_str()).collect();
        assert_eq!(
            sql,
            vec![
                "INSERT INTO t (a) VALUES ($1)",
                "UPDATE t SET a = $1",
                "UPDATE t SET a = $1",
                "INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO NOTHING",
                "INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO NOTHING",
            ]
        );
    }
}
