//! Retention (storage limitation, GDPR Art. 5(1)(e)): rules that say how long after its last
//! activity each kind of subject is kept, the list of who is due for erasure on a day, and the
//! runs that erase them (on request, and once a day by the service itself).

pub mod api;
pub mod due;
pub mod model;
pub mod rules;
pub mod run;
pub mod runs;
pub mod set;
pub mod worker;
