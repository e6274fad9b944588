//! What a resource brings to the group commit: an operation that runs many requests' jobs in one
//! transaction together with their access-log entries. The writer ([`super::writer`]) knows no
//! resource; it queues, batches, commits, retries and answers through the type-erased
//! `Pending` groups defined here.

use super::NewEntry;
use crate::error::{ApiError, ApiResult};
use diesel::pg::PgConnection;
use std::any::{Any, TypeId};
use tokio::sync::oneshot;

/// An operation that rides the group commit.
///
/// `apply` runs inside the batch's transaction with every job of this operation that the batch
/// holds, in arrival order, and answers each of them (one answer per job, in the same order).
/// The entries it pushes are appended in the same transaction; no answer leaves before that
/// transaction has committed, so a request gets its data only once its entry is durable.
pub trait GroupOp: 'static {
    /// What one request hands over.
    type Job: Send + 'static;
    /// What the request gets back once the batch has committed.
    type Answer: Send + 'static;

    /// Runs the jobs of one batch on the batch's connection.
    fn apply(
        conn: &mut PgConnection,
        jobs: &[Self::Job],
        entries: &mut Vec<NewEntry>,
    ) -> ApiResult<Vec<Self::Answer>>;

    /// How much of a batch's room one job takes: about the entries it appends.
    fn weight(_job: &Self::Job) -> usize {
        1
    }

    /// True when a job records more than its access-log entry: then a batch holding a job whose
    /// request stopped waiting is rolled back rather than committed behind an answered 503. (An
    /// entry of a read nobody waits for any more may commit: it over-reports, never hides.)
    const CHANGES_DATA: bool = false;
}

/// Plain entries, such as those of reads whose data was fetched elsewhere, or of refusals.
pub struct AppendEntries;

impl GroupOp for AppendEntries {
    type Job = Vec<NewEntry>;
    type Answer = ();

    fn apply(
        _: &mut PgConnection,
        jobs: &[Vec<NewEntry>],
        entries: &mut Vec<NewEntry>,
    ) -> ApiResult<Vec<()>> {
        for job in jobs {
            entries.extend_from_slice(job);
        }
        Ok(vec![(); jobs.len()])
    }

    fn weight(job: &Vec<NewEntry>) -> usize {
        job.len()
    }
}

/// The operations a writer runs, in the order a batch applies them: that order is the order in
/// which batches take row locks, so two batches never wait on each other in a circle.
#[derive(Clone, Default)]
pub struct GroupOps {
    order: Vec<(TypeId, &'static str)>,
}

impl GroupOps {
    /// No operation yet but the plain append, which always runs last.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operation after those already added.
    pub fn with<O: GroupOp>(mut self) -> Self {
        let id = TypeId::of::<O>();
        if !self.order.iter().any(|(known, _)| *known == id) {
            self.order.push((id, std::any::type_name::<O>()));
        }
        self
    }

    /// Where an operation runs in a batch; `None` when it was never registered.
    pub(super) fn rank(&self, op: TypeId) -> Option<usize> {
        if op == TypeId::of::<AppendEntries>() {
            return Some(usize::MAX);
        }
        self.order.iter().position(|(known, _)| *known == op)
    }
}

/// The jobs of one operation waiting in a batch, with the requests to answer.
pub(super) trait Pending: Send {
    fn op(&self) -> TypeId;
    fn jobs(&self) -> usize;
    fn weight(&self) -> usize;
    /// Takes over the jobs of `other`, which must be of the same operation.
    fn absorb(&mut self, other: Box<dyn Pending>);
    fn apply(&mut self, conn: &mut PgConnection, entries: &mut Vec<NewEntry>) -> ApiResult<()>;
    /// Sends the answers `apply` prepared: only after the commit.
    fn answer(self: Box<Self>);
    fn fail(self: Box<Self>, error: fn() -> ApiError);
    /// True when a request of the group that changes data no longer waits for its answer (it
    /// passed its deadline and was answered 503, or its client went away): it must not commit.
    fn abandoned(&self) -> bool;
    /// Drops the jobs nobody waits for.
    fn drop_abandoned(&mut self);
    /// One group per job, so that a job that fails can fail alone.
    fn split(self: Box<Self>) -> Vec<Box<dyn Pending>>;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

type Reply<O> = oneshot::Sender<ApiResult<<O as GroupOp>::Answer>>;

/// The jobs of operation `O`.
pub(super) struct Group<O: GroupOp> {
    jobs: Vec<O::Job>,
    replies: Vec<Reply<O>>,
    answers: Vec<O::Answer>,
}

impl<O: GroupOp> Group<O> {
    pub(super) fn single(job: O::Job, reply: Reply<O>) -> Self {
        Self {
            jobs: vec![job],
            replies: vec![reply],
            answers: Vec::new(),
        }
    }
}

impl<O: GroupOp> Pending for Group<O> {
    fn op(&self) -> TypeId {
        TypeId::of::<O>()
    }

    fn jobs(&self) -> usize {
        self.jobs.len()
    }

    fn weight(&self) -> usize {
        self.jobs.iter().map(O::weight).sum()
    }

    fn absorb(&mut self, other: Box<dyn Pending>) {
        match other.into_any().downcast::<Self>() {
            Ok(other) => {
                let other = *other;
                self.jobs.extend(other.jobs);
                self.replies.extend(other.replies);
            }
            Err(_) => log::error!("group commit: jobs of another operation were merged"),
        }
    }

    fn apply(&mut self, conn: &mut PgConnection, entries: &mut Vec<NewEntry>) -> ApiResult<()> {
        let answers = O::apply(conn, &self.jobs, entries)?;
        if answers.len() != self.jobs.len() {
            return Err(ApiError::internal(format!(
                "{} answered {} of {} jobs",
                std::any::type_name::<O>(),
                answers.len(),
                self.jobs.len()
            )));
        }
        self.answers = answers;
        Ok(())
    }

    fn answer(self: Box<Self>) {
        for (reply, answer) in self.replies.into_iter().zip(self.answers) {
            let _ = reply.send(Ok(answer));
        }
    }

    fn fail(self: Box<Self>, error: fn() -> ApiError) {
        for reply in self.replies {
            let _ = reply.send(Err(error()));
        }
    }

    fn abandoned(&self) -> bool {
        O::CHANGES_DATA && self.replies.iter().any(oneshot::Sender::is_closed)
    }

    fn drop_abandoned(&mut self) {
        let jobs = std::mem::take(&mut self.jobs);
        let replies = std::mem::take(&mut self.replies);
        for (job, reply) in jobs.into_iter().zip(replies) {
            if !reply.is_closed() {
                self.jobs.push(job);
                self.replies.push(reply);
            }
        }
        self.answers.clear();
    }

    fn split(self: Box<Self>) -> Vec<Box<dyn Pending>> {
        self.jobs
            .into_iter()
            .zip(self.replies)
            .map(|(job, reply)| Box::new(Group::<O>::single(job, reply)) as Box<dyn Pending>)
            .collect()
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
