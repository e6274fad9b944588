//! What follows the end of every transaction on this thread. The mechanism names no resource:
//! a resource that must act once its writes are durable (the notices wake their delivery after
//! a commit that queued some) registers a hook at start-up.

use std::sync::RwLock;

/// A hook told whether the transaction that just ended on this thread committed.
pub type Hook = fn(committed: bool);

static HOOKS: RwLock<Vec<Hook>> = RwLock::new(Vec::new());

/// Adds `hook` (once: registering the same hook again changes nothing).
pub fn register(hook: Hook) {
    let mut hooks = HOOKS.write().unwrap_or_else(|p| p.into_inner());
    if !hooks.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
        hooks.push(hook);
    }
}

/// Called by whoever commits or rolls back a transaction (the request transaction and the
/// access log's group commit).
pub fn transaction_ended(committed: bool) {
    for hook in HOOKS.read().unwrap_or_else(|p| p.into_inner()).iter() {
        hook(committed);
    }
}
