//! Group commit: concurrent appends that queue up share one transaction.
//!
//! Each transaction costs a round trip, a snapshot and a WAL flush whatever it holds, and on a small machine that
//! fixed cost, not the rows, bounds how many one-event commands commit per second. So when appends arrive while
//! `max_in_flight` transactions are already running, they wait in a queue, and the next free worker takes up to
//! `max_batch` of them into one `portal_append_group` call. A lone writer never waits: it finds a free worker at
//! once and its commit runs alone, as before.
//!
//! A group commits all or nothing. If anything in it fails (a version conflict, a claim taken, a replayed command,
//! a deadlock with another group), every commit of the group is tried again on its own, where its error, if it
//! has one, is its own.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use deadpool_postgres::Pool;
use serde_json::Value;
use tokio::sync::oneshot;

/// How appends are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCommitSettings {
    /// Transactions of appends running at once; appends beyond them queue and are grouped. 0 turns grouping off.
    pub max_in_flight: usize,
    /// Commits in one group at most.
    pub max_batch: usize,
}

impl Default for GroupCommitSettings {
    fn default() -> Self {
        // Measured on 2 cores (docs/benchmarks.md): more transactions in flight means smaller groups, fewer means
        // idle cores; 4 and 64 gave the best rate at 16 to 64 writers without costing a lone writer anything.
        Self {
            max_in_flight: 4,
            max_batch: 64,
        }
    }
}

/// What group commit has done since the log was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Transactions that held more than one commit.
    pub groups: u64,
    /// Commits written in those transactions.
    pub grouped_commits: u64,
    /// Groups that failed, whose commits were then tried one by one.
    pub failed_groups: u64,
}

/// What became of a commit handed to the group.
pub(super) enum Grouped {
    /// It ran alone: the statement's own answer, for the caller to read.
    Alone(Result<Value, tokio_postgres::Error>),
    /// It committed with others; `portal_append`'s answer for it.
    Committed(Value),
    /// Its group failed and nothing of it was written: the caller tries it alone.
    Retry,
}

struct Request {
    /// The commit as `portal_append`'s JSON document, serialized once.
    document: Arc<str>,
    /// Its first stream, the order of commits in a group.
    first_stream: String,
    reply: oneshot::Sender<Grouped>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Request>,
    in_flight: usize,
}

/// The queue of appends and the workers that drain it.
pub(super) struct GroupCommit {
    pool: Pool,
    settings: GroupCommitSettings,
    queue: Mutex<Queue>,
    groups: AtomicU64,
    grouped_commits: AtomicU64,
    failed_groups: AtomicU64,
}

impl GroupCommit {
    pub(super) fn new(pool: Pool, settings: GroupCommitSettings) -> Arc<Self> {
        Arc::new(Self {
            pool,
            settings,
            queue: Mutex::new(Queue::default()),
            groups: AtomicU64::new(0),
            grouped_commits: AtomicU64::new(0),
            failed_groups: AtomicU64::new(0),
        })
    }

    pub(super) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            groups: self.groups.load(Ordering::Relaxed),
            grouped_commits: self.grouped_commits.load(Ordering::Relaxed),
            failed_groups: self.failed_groups.load(Ordering::Relaxed),
        }
    }

    pub(super) fn enabled(&self) -> bool {
        self.settings.max_in_flight > 0
    }

    /// Appends `document` (a `portal_append` document), alone or with others.
    pub(super) async fn submit(
        self: &Arc<Self>,
        document: Arc<str>,
        first_stream: &str,
    ) -> Grouped {
        let (reply, answer) = oneshot::channel();
        let first_stream = first_stream.to_owned();
        let start_worker = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.waiting.push_back(Request {
                document,
                first_stream,
                reply,
            });
            let free = queue.in_flight < self.settings.max_in_flight;
            if free {
                queue.in_flight += 1;
            }
            free
        };
        if start_worker {
            // A task of its own, so that a caller that goes away (a dropped request) never strands the others.
            tokio::spawn(Arc::clone(self).drain());
        }
        // A worker that died without answering wrote nothing of this commit: try it alone.
        answer.await.unwrap_or(Grouped::Retry)
    }

    /// Runs groups until the queue is empty.
    async fn drain(self: Arc<Self>) {
        loop {
            let group: Vec<Request> = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                if queue.waiting.is_empty() {
                    queue.in_flight -= 1;
                    return;
                }
                let size = queue.waiting.len().min(self.settings.max_batch.max(1));
                queue.waiting.drain(..size).collect()
            };
            self.run(group).await;
        }
    }

    async fn run(&self, mut group: Vec<Request>) {
        if group.len() == 1 {
            let request = group.remove(0);
            let answer = self.append_one(&request.document).await;
            let _ = request
                .reply
                .send(answer.map_or(Grouped::Retry, Grouped::Alone));
            return;
        }
        // Commits in the order of their first stream, so that two groups lock streams in the same order and cannot
        // deadlock on each other (multi-stream commits still may; the deadlock detector then fails one group).
        group.sort_by(|a, b| a.first_stream.cmp(&b.first_stream));
        match self.append_group(&group).await {
            Some(answers) if answers.len() == group.len() => {
                self.groups.fetch_add(1, Ordering::Relaxed);
                self.grouped_commits
                    .fetch_add(group.len() as u64, Ordering::Relaxed);
                for (request, answer) in group.into_iter().zip(answers) {
                    let _ = request.reply.send(Grouped::Committed(answer));
                }
            }
            _ => {
                self.failed_groups.fetch_add(1, Ordering::Relaxed);
                for request in group {
                    let _ = request.reply.send(Grouped::Retry);
                }
            }
        }
    }

    /// `portal_append` alone; None when no connection is to be had (the caller's own attempt reports why).
    async fn append_one(&self, document: &str) -> Option<Result<Value, tokio_postgres::Error>> {
        let client = self.pool.get().await.ok()?;
        Some(append(&client, document).await)
    }

    async fn append_group(&self, group: &[Request]) -> Option<Vec<Value>> {
        // The documents are JSON already: the group's array is made by joining them.
        let mut documents =
            String::with_capacity(group.iter().map(|r| r.document.len() + 1).sum::<usize>() + 1);
        documents.push('[');
        for (n, request) in group.iter().enumerate() {
            if n > 0 {
                documents.push(',');
            }
            documents.push_str(&request.document);
        }
        documents.push(']');
        let client = self.pool.get().await.ok()?;
        let statement = client
            .prepare_cached("SELECT portal_append_group($1::text::jsonb)")
            .await
            .ok()?;
        match client.query_one(&statement, &[&documents]).await {
            Ok(row) => match row.get::<_, Value>(0) {
                Value::Array(answers) => Some(answers),
                _ => None,
            },
            Err(error) => {
                tracing::debug!(%error, commits = group.len(), "group commit failed; each commit is tried alone");
                None
            }
        }
    }
}

/// Appends one commit: one statement, so one implicit transaction and one round trip. The document goes as text,
/// serialized once by the caller; the answer is `portal_append`'s.
pub(super) async fn append(
    client: &deadpool_postgres::Client,
    document: &str,
) -> Result<Value, tokio_postgres::Error> {
    let statement = client
        .prepare_cached("SELECT portal_append($1::text::jsonb)")
        .await?;
    Ok(client.query_one(&statement, &[&document]).await?.get(0))
}
