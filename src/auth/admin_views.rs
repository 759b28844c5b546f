//! View models for the admin's user management and audit log pages.

use askama::Template;
use askama_web::WebTemplate;
use uuid::Uuid;

use super::Role;
use super::audit::Entry;
use super::db::{User, UserListRow};
use super::users::FormErrors;
use crate::web::layout::Chrome;

pub use crate::web::format::timestamp;

pub struct RoleOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub fn role_options(selected: &str) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: r.label(),
            selected: r.as_str() == selected,
        })
        .collect()
}

pub struct ManagerOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

pub fn manager_options(
    managers: Vec<(Uuid, String)>,
    selected: Option<Uuid>,
) -> Vec<ManagerOption> {
    managers
        .into_iter()
        .map(|(id, name)| ManagerOption {
            id: id.to_string(),
            name,
            selected: Some(id) == selected,
        })
        .collect()
}

pub struct UserRowView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub manager: String,
    pub active: bool,
    pub created: String,
}

impl From<UserListRow> for UserRowView {
    fn from(u: UserListRow) -> Self {
        UserRowView {
            id: u.id.to_string(),
            name: u.name,
            email: u.email,
            role: u.role.label(),
            manager: u.manager_name.unwrap_or_default(),
            active: u.active,
            created: timestamp(u.created_at),
        }
    }
}

/// The values of the new-user form, kept when it is shown again with errors.
#[derive(Default)]
pub struct NewUserValues {
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<UserRowView>,
    pub roles: Vec<RoleOption>,
    pub managers: Vec<ManagerOption>,
    pub values: NewUserValues,
    pub errors: FormErrors,
    pub notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/_user_row.html")]
pub struct UserRowFragment {
    pub u: UserRowView,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub id: String,
    pub email: String,
    pub name: String,
    pub active: bool,
    pub roles: Vec<RoleOption>,
    pub managers: Vec<ManagerOption>,
    pub errors: FormErrors,
    pub notice: Option<String>,
    pub new_password: Option<String>,
}

impl UserPage {
    pub fn new(chrome: Chrome, user: User, managers: Vec<(Uuid, String)>) -> Self {
        UserPage {
            chrome,
            id: user.id.to_string(),
            email: user.email,
            roles: role_options(user.role.as_str()),
            managers: manager_options(managers, user.manager_id),
            name: user.name,
            active: user.active,
            errors: FormErrors::default(),
            notice: None,
            new_password: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/_password.html")]
pub struct PasswordReset {
    pub id: String,
    pub email: String,
    pub new_password: Option<String>,
}

pub struct EntryView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        let details = match &e.details {
            serde_json::Value::Object(m) if m.is_empty() => String::new(),
            other => other.to_string(),
        };
        EntryView {
            at: timestamp(e.at),
            actor: e.actor_label,
            action: e.action,
            target: e.target.unwrap_or_default(),
            details,
        }
    }
}

pub struct FilterOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub users: Vec<FilterOption>,
    pub actions: Vec<FilterOption>,
    pub entries: Vec<EntryView>,
    pub next_page: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/_audit_entries.html")]
pub struct AuditEntries {
    pub entries: Vec<EntryView>,
    pub next_page: Option<String>,
}
