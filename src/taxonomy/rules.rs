//! The mapping's rules: which event types play which part in the features, by exact name
//! or by a `*` pattern, written one rule a line (`board_* = module:kanban_boards`).

use serde::{Deserialize, Serialize};

/// The parts an event type can play. A type may play several (a comment is a core action
/// and collaboration); `Ignored` wins over everything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Counts in core actions (the action trend).
    Core,
    /// Use of a named feature area (features adopted, expansion depth).
    Module(String),
    /// Working with others (users commenting).
    Collaboration,
    /// Bringing people in (invites sent).
    Invite,
    /// Counts as activity (active users) and nothing more: the default for unmapped types.
    Activity,
    /// Not counted at all, not even as activity (system or noise events).
    Ignored,
}

impl Part {
    fn parse(word: &str) -> Result<Part, String> {
        let word = word.trim();
        if let Some(name) = word.strip_prefix("module:") {
            let name = name.trim();
            if name.is_empty() || name.len() > 40 {
                return Err("a module needs a name of 1 to 40 characters (module:reports)".into());
            }
            return Ok(Part::Module(name.to_owned()));
        }
        Ok(match word {
            "core" => Part::Core,
            "collaboration" => Part::Collaboration,
            "invite" => Part::Invite,
            "activity" => Part::Activity,
            "ignored" => Part::Ignored,
            other => {
                return Err(format!(
                    "unknown part '{other}' (core, module:NAME, collaboration, invite, activity, ignored)"
                ));
            }
        })
    }

    fn word(&self) -> String {
        match self {
            Part::Core => "core".into(),
            Part::Module(name) => format!("module:{name}"),
            Part::Collaboration => "collaboration".into(),
            Part::Invite => "invite".into(),
            Part::Activity => "activity".into(),
            Part::Ignored => "ignored".into(),
        }
    }
}

/// One line of the mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// An event type's exact name, or a pattern where `*` stands for any run of characters.
    pub pattern: String,
    pub parts: Vec<Part>,
}

/// How many feature areas a mapping may name: they are bits of a 32-bit mask.
pub const MAX_MODULES: usize = 32;

impl Rule {
    pub fn matches(&self, name: &str) -> bool {
        glob(self.pattern.as_bytes(), name.as_bytes())
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((c, rest)) => name.first() == Some(c) && glob(rest, &name[1..]),
    }
}

/// Parses the editor's text: `pattern = part, part` a line; blank lines and `#` comments
/// are skipped. Errors name the line.
pub fn parse(text: &str) -> Result<Vec<Rule>, Vec<String>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        let Some((pattern, parts)) = line.split_once('=') else {
            errors.push(format!(
                "line {n}: expected `event_type = part`, got '{line}'"
            ));
            continue;
        };
        let pattern = pattern.trim();
        let valid = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'*';
        if pattern.is_empty() || pattern.len() > 64 || !pattern.bytes().all(valid) {
            errors.push(format!(
                "line {n}: '{pattern}' is not an event type or pattern (lowercase letters, digits, _ and *)"
            ));
            continue;
        }
        match parts
            .split(',')
            .map(Part::parse)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(parts) => rules.push(Rule {
                pattern: pattern.to_owned(),
                parts,
            }),
            Err(e) => errors.push(format!("line {n}: {e}")),
        }
    }
    let modules = modules(&rules).len();
    if modules > MAX_MODULES {
        errors.push(format!(
            "{modules} modules named; a mapping may name at most {MAX_MODULES}"
        ));
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// The rules as the editor shows them.
pub fn text(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| {
            let parts: Vec<String> = r.parts.iter().map(Part::word).collect();
            format!("{} = {}\n", r.pattern, parts.join(", "))
        })
        .collect()
}

/// The feature areas the rules name, in order of first mention (bit i = module i).
pub fn modules(rules: &[Rule]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in rules.iter().flat_map(|r| &r.parts) {
        if let Part::Module(name) = part
            && !out.contains(name)
        {
            out.push(name.clone());
        }
    }
    out
}

/// What one event type counts for under a mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// Counts as activity at all (false only for ignored types).
    pub counted: bool,
    pub core: bool,
    pub collaboration: bool,
    pub invite: bool,
    /// Bitmask of the modules it is use of.
    pub modules: i32,
}

/// A mapping made ready to apply: roles by event-type name.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    pub rules: Vec<Rule>,
    pub modules: Vec<String>,
}

impl Compiled {
    pub fn new(rules: Vec<Rule>) -> Compiled {
        Compiled {
            modules: modules(&rules),
            rules,
        }
    }

    /// The roles of one event type: every matching rule adds its parts; unmatched types
    /// count as activity only.
    pub fn roles(&self, name: &str) -> Roles {
        let mut r = Roles {
            counted: true,
            ..Roles::default()
        };
        for part in self
            .rules
            .iter()
            .filter(|r| r.matches(name))
            .flat_map(|r| &r.parts)
        {
            match part {
                Part::Core => r.core = true,
                Part::Collaboration => r.collaboration = true,
                Part::Invite => r.invite = true,
                Part::Activity => {}
                Part::Module(m) => {
                    let bit = self.modules.iter().position(|x| x == m).unwrap_or(0);
                    r.modules |= 1 << bit;
                }
                Part::Ignored => return Roles::default(),
            }
        }
        r
    }

    /// What an event type counts for, in words: "core, module kanban_boards", "activity
    /// only", "ignored".
    pub fn describe(&self, name: &str) -> String {
        let r = self.roles(name);
        if !r.counted {
            return "ignored".into();
        }
        let mut parts: Vec<String> = [
            (r.core, "core"),
            (r.collaboration, "collaboration"),
            (r.invite, "invite"),
        ]
        .iter()
        .filter(|p| p.0)
        .map(|p| p.1.to_owned())
        .collect();
        parts.extend(
            self.modules
                .iter()
                .enumerate()
                .filter(|(i, _)| r.modules & (1 << i) != 0)
                .map(|(_, m)| format!("module {m}")),
        );
        if parts.is_empty() {
            "activity only".into()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(text: &str) -> Compiled {
        Compiled::new(parse(text).unwrap())
    }

    #[test]
    fn patterns_match_exact_names_and_star_runs() {
        let rule = |p: &str| Rule {
            pattern: p.into(),
            parts: vec![],
        };
        assert!(rule("task_created").matches("task_created"));
        assert!(!rule("task_created").matches("task_created_again"));
        assert!(rule("board_*").matches("board_viewed"));
        assert!(rule("board_*").matches("board_"));
        assert!(!rule("board_*").matches("dashboard_viewed"));
        assert!(rule("*_viewed").matches("dashboard_viewed"));
        assert!(rule("*lead*").matches("email_lead_sent"));
    }

    #[test]
    fn a_type_collects_the_parts_of_every_matching_rule() {
        let m = compiled(
            "comment_added = core, collaboration\n*_added = module:content\ninvite_sent = invite, module:team\n",
        );
        assert_eq!(m.modules, ["content", "team"]);
        let c = m.roles("comment_added");
        assert!(c.counted && c.core && c.collaboration && !c.invite);
        assert_eq!(c.modules, 1);
        assert_eq!(m.roles("invite_sent").modules, 2);
        assert_eq!(
            m.roles("page_viewed"),
            Roles {
                counted: true,
                ..Roles::default()
            },
            "unmapped types are activity only"
        );
    }

    #[test]
    fn ignored_wins_over_every_other_part() {
        let m = compiled("sync_* = core\nsync_heartbeat = ignored\n");
        assert!(m.roles("sync_done").core);
        assert_eq!(m.roles("sync_heartbeat"), Roles::default());
    }

    #[test]
    fn errors_name_the_line_and_what_is_wrong() {
        let errors = parse("task_created = core\n\nBad Name = core\nx = colaboration\ny core\n")
            .unwrap_err();
        assert_eq!(errors.len(), 3);
        assert!(errors[0].starts_with("line 3:"), "{errors:?}");
        assert!(errors[1].contains("line 4: unknown part 'colaboration'"));
        assert!(errors[2].contains("line 5: expected"));
    }

    #[test]
    fn text_round_trips() {
        let text = "board_* = module:kanban_boards\ncomment_added = core, collaboration\nexport_* = ignored\n";
        assert_eq!(super::text(&parse(text).unwrap()), text);
    }

    #[test]
    fn at_most_32_modules() {
        let text: String = (0..33).map(|i| format!("e{i} = module:m{i}\n")).collect();
        let errors = parse(&text).unwrap_err();
        assert!(errors[0].contains("33 modules"), "{errors:?}");
    }
}
