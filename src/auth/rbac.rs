//! Roles. What each role may open is declared per route (see `web::access`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Csm,
    Sales,
    Executive,
    Analyst,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Manager,
        Role::Csm,
        Role::Sales,
        Role::Executive,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Csm => "csm",
            Role::Sales => "sales",
            Role::Executive => "executive",
            Role::Analyst => "analyst",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Manager => "CS manager",
            Role::Csm => "Customer success manager",
            Role::Sales => "Sales",
            Role::Executive => "Executive",
            Role::Analyst => "Analyst",
        }
    }

    /// Where a user of this role lands after signing in.
    pub fn home(self) -> &'static str {
        match self {
            Role::Admin => "/admin/users",
            Role::Manager => "/team",
            Role::Csm => "/worklist",
            Role::Sales => "/opportunities",
            Role::Executive => "/dashboard",
            Role::Analyst => "/models",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role '{0}' (expected one of admin, manager, csm, sales, executive, analyst)")]
pub struct UnknownRole(String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_from_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
            assert_eq!(
                role.as_str().to_uppercase().parse::<Role>().ok(),
                Some(role)
            );
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn homes_are_distinct() {
        let homes: std::collections::HashSet<_> = Role::ALL.iter().map(|r| r.home()).collect();
        assert_eq!(homes.len(), Role::ALL.len());
    }
}
