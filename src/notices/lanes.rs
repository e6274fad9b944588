//! One lane per recipient: how many of its notices are in flight here and whether its receiver
//! has been failing, so that a slow or dead receiver holds back only its own notices. A recipient
//! may have [`PER_RECIPIENT`] attempts at once; after a timeout, a refused connection or a 5xx /
//! 429 it gets one at a time, and none until a cool-down that doubles with each failure in a row
//! (5 s up to 1 min); a delivery clears it, and so does a staff retry of one of its notices.

use crate::domain::ids::RecipientId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts to one recipient at once while its receiver answers.
pub const PER_RECIPIENT: usize = 4;
/// The first cool-down after a failure; it doubles with each failure in a row.
const COOL_FIRST: Duration = Duration::from_secs(5);
/// The longest cool-down.
const COOL_MAX: Duration = Duration::from_secs(60);

/// Recipients whose notices staff retried since the dispatcher last looked.
static FORGIVEN: Mutex<Vec<RecipientId>> = Mutex::new(Vec::new());

/// Staff retried a notice to `recipient`: its lane's cool-down ends, so the retry goes at once.
pub fn forgive(recipient: RecipientId) {
    FORGIVEN
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(recipient);
}

#[derive(Default)]
struct Lane {
    in_flight: usize,
    failures: u32,
    cool_until: Option<Instant>,
}

impl Lane {
    fn room(&self, now: Instant) -> usize {
        if self.cool_until.is_some_and(|until| until > now) {
            return 0;
        }
        let cap = if self.failures == 0 { PER_RECIPIENT } else { 1 };
        cap.saturating_sub(self.in_flight)
    }
}

/// The lanes of one dispatcher.
#[derive(Default)]
pub struct Lanes {
    lanes: HashMap<RecipientId, Lane>,
}

impl Lanes {
    /// The recipients that may have fewer than [`PER_RECIPIENT`] more attempts now, with how many
    /// (0: none); any other recipient may have [`PER_RECIPIENT`].
    pub fn limited(&mut self) -> (Vec<RecipientId>, Vec<i32>) {
        let forgiven = std::mem::take(&mut *FORGIVEN.lock().unwrap_or_else(|p| p.into_inner()));
        for recipient in forgiven {
            if let Some(lane) = self.lanes.get_mut(&recipient) {
                lane.failures = 0;
                lane.cool_until = None;
            }
        }
        let now = Instant::now();
        self.lanes
            .iter()
            .map(|(id, lane)| (*id, lane.room(now)))
            .filter(|(_, room)| *room < PER_RECIPIENT)
            .map(|(id, room)| (id, i32::try_from(room).unwrap_or(0)))
            .unzip()
    }

    /// An attempt to `recipient` starts.
    pub fn started(&mut self, recipient: RecipientId) {
        self.lanes.entry(recipient).or_default().in_flight += 1;
    }

    /// An attempt to `recipient` ended: `trouble` when its receiver did not answer well.
    pub fn ended(&mut self, recipient: RecipientId, trouble: bool) {
        let lane = self.lanes.entry(recipient).or_default();
        lane.in_flight = lane.in_flight.saturating_sub(1);
        if trouble {
            lane.failures = lane.failures.saturating_add(1);
            let doubled = COOL_FIRST.saturating_mul(1 << (lane.failures - 1).min(16));
            lane.cool_until = Some(Instant::now() + doubled.min(COOL_MAX));
        } else {
            lane.failures = 0;
            lane.cool_until = None;
        }
        if lane.in_flight == 0 && lane.failures == 0 {
            self.lanes.remove(&recipient);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_receiver_cools_down_and_then_gets_one_attempt_at_a_time() {
        let (sick, well) = (RecipientId::new(), RecipientId::new());
        let mut lanes = Lanes::default();
        for _ in 0..PER_RECIPIENT {
            lanes.started(sick);
        }
        lanes.started(well);
        let (ids, rooms) = lanes.limited();
        let room = |id| ids.iter().position(|i| *i == id).map(|i| rooms[i]);
        assert_eq!(room(sick), Some(0));
        assert_eq!(room(well), Some(PER_RECIPIENT as i32 - 1));
        lanes.ended(sick, true);
        lanes.ended(well, false);
        let (ids, rooms) = lanes.limited();
        assert_eq!(
            (ids, rooms),
            (vec![sick], vec![0]),
            "cooling, the other free"
        );
        let lane = lanes.lanes.get_mut(&sick).unwrap();
        lane.cool_until = Some(Instant::now());
        lane.in_flight = 0;
        assert_eq!(lanes.limited(), (vec![sick], vec![1]), "one probe after it");
        lanes.ended(sick, false);
        assert!(lanes.limited().0.is_empty(), "a delivery clears it");
    }
}
