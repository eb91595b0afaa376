//! Which of the two parties a share belongs to. (`Scheme` is shared vocabulary, in `dyad-types`.)

use serde::{Deserialize, Serialize};

/// Which side of the 2-of-2 a party is. Both libraries number the parties the same way:
/// `User` is party 1 (the SDK), `Cloud` is party 2 (the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Party 1: the user share, held by the SDK (app backend or device).
    User,
    /// Party 2: the cloud share, held by the Dyad server.
    Cloud,
}

impl Role {
    /// The other party.
    pub fn peer(self) -> Role {
        match self {
            Role::User => Role::Cloud,
            Role::Cloud => Role::User,
        }
    }

    /// The 1-based party index both libraries use for this role.
    pub fn index(self) -> u8 {
        match self {
            Role::User => 1,
            Role::Cloud => 2,
        }
    }

    /// The role with the given 1-based party index, if it is one of the two.
    pub(crate) fn from_index(index: u8) -> Option<Role> {
        match index {
            1 => Some(Role::User),
            2 => Some(Role::Cloud),
            _ => None,
        }
    }
}
