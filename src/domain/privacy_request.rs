//! The stored vocabulary of privacy requests: what a person asked for, how the request reached
//! PlanPro, where it stands and how it ended. One spelling each, used on the wire and in storage.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a stored enum: its variants with their names, `ALL`, `as_str`, and `from_stored`,
/// which treats an unknown stored value as the internal error it is.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value with this name, or a message listing the accepted ones.
            pub fn parse(name: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name).ok_or_else(|| {
                    let names: Vec<String> =
                        Self::ALL.iter().map(|v| format!("`{}`", v.as_str())).collect();
                    format!("must be one of {}", names.join(", "))
                })
            }

            /// The value of a stored name; an unknown one is an internal error (logged without
            /// personal data by the error type), never dropped.
            pub fn from_stored(name: &str) -> crate::error::ApiResult<Self> {
                Self::parse(name).map_err(|_| {
                    crate::error::ApiError::internal(format!(
                        "unknown stored {} `{}`",
                        stringify!($name),
                        name.escape_default()
                    ))
                })
            }
        }
    };
}

stored_enum! {
    /// What the person asked for.
    RequestKind {
        /// To see their data (Art. 15).
        Access => "access",
        /// To have it corrected (Art. 16).
        Rectification => "rectification",
        /// To have it erased (Art. 17).
        Erasure => "erasure",
        /// To have its processing restricted (Art. 18).
        Restriction => "restriction",
        /// To object to processing, such as marketing (Art. 21).
        Objection => "objection",
    }
}

stored_enum! {
    /// How the request reached PlanPro.
    RequestChannel {
        /// An e-mail, such as to info@planpro.ee.
        Email => "email",
        /// The PlanPro portal.
        Portal => "portal",
        /// A letter.
        Letter => "letter",
        /// A telephone call.
        Phone => "phone",
        /// In person.
        InPerson => "in_person",
    }
}

stored_enum! {
    /// Whether the request still waits for its answer.
    RequestStatus {
        /// Not yet answered.
        Open => "open",
        /// Answered, with an outcome.
        Closed => "closed",
    }
}

stored_enum! {
    /// How a request ended.
    RequestOutcome {
        /// Done as asked (an erasure request only once the subject is erased).
        Fulfilled => "fulfilled",
        /// Refused, with the reason told to the person.
        Refused => "refused",
        /// Withdrawn by the person.
        Withdrawn => "withdrawn",
    }
}
