//! Account segments by MRR: Enterprise ≥ $5,000, Mid-Market $1,000–4,999, SMB $200–999,
//! Self-serve < $200. The one home of these thresholds and labels; the `accounts.segment`
//! generated column computes the same in cents, and a test holds the two together.

/// A segment, in display order (largest accounts first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    Enterprise,
    MidMarket,
    Smb,
    SelfServe,
}

impl Segment {
    pub const ALL: [Segment; 4] = [
        Segment::Enterprise,
        Segment::MidMarket,
        Segment::Smb,
        Segment::SelfServe,
    ];

    /// The lowest MRR, in dollars, of each segment.
    pub fn floor_dollars(self) -> f64 {
        match self {
            Segment::Enterprise => 5_000.0,
            Segment::MidMarket => 1_000.0,
            Segment::Smb => 200.0,
            Segment::SelfServe => 0.0,
        }
    }

    /// The segment of an account paying `mrr` dollars a month.
    pub fn from_mrr(mrr: f64) -> Segment {
        Segment::ALL
            .into_iter()
            .find(|s| mrr >= s.floor_dollars())
            .unwrap_or(Segment::SelfServe)
    }

    /// The value stored in `accounts.segment` and `scores.segment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Enterprise => "enterprise",
            Segment::MidMarket => "mid_market",
            Segment::Smb => "smb",
            Segment::SelfServe => "self_serve",
        }
    }

    pub fn parse(s: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|seg| seg.as_str() == s)
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Segment::Enterprise => "Enterprise",
            Segment::MidMarket => "Mid-Market",
            Segment::Smb => "SMB",
            Segment::SelfServe => "Self-serve",
        }
    }
}

impl Segment {
    /// `(stored value, label)` of every segment, for a filter's options.
    pub fn options() -> [(&'static str, &'static str); 4] {
        Segment::ALL.map(|s| (s.as_str(), s.label()))
    }
}

/// The label of a stored segment value, or a dash for none.
pub fn label_of(stored: &str) -> &'static str {
    Segment::parse(stored).map_or("—", Segment::label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_lower_bounds() {
        assert_eq!(Segment::from_mrr(5_000.0), Segment::Enterprise);
        assert_eq!(Segment::from_mrr(4_999.99), Segment::MidMarket);
        assert_eq!(Segment::from_mrr(1_000.0), Segment::MidMarket);
        assert_eq!(Segment::from_mrr(999.0), Segment::Smb);
        assert_eq!(Segment::from_mrr(200.0), Segment::Smb);
        assert_eq!(Segment::from_mrr(199.0), Segment::SelfServe);
        assert_eq!(Segment::from_mrr(0.0), Segment::SelfServe);
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()), Some(s));
        }
        assert_eq!(label_of("mid_market"), "Mid-Market");
    }
}
