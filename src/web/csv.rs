//! CSV as Keel writes it for people: a cell a spreadsheet would run as a formula (one that
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is defused with a leading
//! apostrophe, as OWASP advises; plain numbers such as `-0.25` are left as they are.

use std::borrow::Cow;
use std::io::Write;

/// The cell as it is safe to write.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV writer whose every cell goes through [`defuse`].
pub struct Writer<W: Write>(csv::Writer<W>);

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer(csv::Writer::from_writer(out))
    }

    pub fn record<I, T>(&mut self, cells: I) -> anyhow::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| defuse(c.as_ref()).into_owned())
            .collect();
        Ok(self.0.write_record(&cells)?)
    }

    pub fn into_inner(self) -> anyhow::Result<W> {
        self.0.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://evil\")",
                "'=HYPERLINK(\"http://evil\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-0.25", "-0.25"),
            ("+3", "+3"),
            ("Acme = best", "Acme = best"),
            ("", ""),
        ] {
            assert_eq!(defuse(cell), safe, "{cell:?}");
        }
        let mut w = Writer::new(Vec::new());
        w.record(["=1+1", "ok"]).unwrap();
        assert_eq!(
            String::from_utf8(w.into_inner().unwrap()).unwrap(),
            "'=1+1,ok\n"
        );
    }
}
