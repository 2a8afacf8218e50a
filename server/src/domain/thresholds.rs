//! 扶贫标准 (`threshold`): the poverty line per year, region and standard, as data.
//!
//! The seeds each state one line: 002 §二(一) 2,952 yuan for 2016 (相当于2010年2300元
//! 不变价) in Kunming Panlong; 000 §四(一) 3,200 yuan for 2016 in Jilin; 003 §一(一)1
//! 3,200 yuan for 2017 in Shanxi (2017年省级确定的3200元扶贫指导线). A lookup picks the
//! most specific region prefix that matches a village's 12-digit division code, so a
//! province-wide line and a district's own line can coexist.
//!
//! What this module must never do: carry a line as a constant inside a rule, or fall
//! back to another year, standard or region when none is set — a missing line is
//! [`RuleError::NoThreshold`], because a guessed poverty line decides people's support.

use super::error::RuleError;
use super::facts::Standard;
use serde::{Deserialize, Serialize};

/// One poverty line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// The income year the line applies to.
    pub year: i32,
    /// Leading digits of the division codes it covers; empty for the whole country.
    pub region_prefix: String,
    pub standard: Standard,
    /// Yuan per person and year, in fen.
    pub amount_fen: i64,
    /// Where the figure comes from, e.g. "002 §二(一)".
    pub source: String,
}

impl Threshold {
    /// The lines the seed documents state, for tests and the demo.
    ///
    /// 000 and 003 give their 3,200 as the current national standard (000 §二(三):
    /// 收入在国家扶贫标准以下; 003 §一(一)1: 国家现行扶贫标准), so all three are `national`.
    pub fn seeded() -> Vec<Threshold> {
        let line = |year, region_prefix: &str, yuan: i64, source: &str| Threshold {
            year,
            region_prefix: region_prefix.to_owned(),
            standard: Standard::National,
            amount_fen: yuan * 100,
            source: source.to_owned(),
        };
        vec![
            // 530103 盘龙区, 昆明市.
            line(2016, "530103", 2_952, "002 §二(一)"),
            // 22 吉林省 (000 names no city code; the line is Jilin's, 吉扶办〔2017〕38号).
            line(2016, "22", 3_200, "000 §四(一)"),
            // 14 山西省.
            line(2017, "14", 3_200, "003 §一(一)1"),
        ]
    }
}

/// The line for a village: same year and standard, the longest `region_prefix` that
/// `region_code` starts with.
pub fn find_threshold<'a>(
    thresholds: &'a [Threshold],
    year: i32,
    region_code: &str,
    standard: Standard,
) -> Result<&'a Threshold, RuleError> {
    let matching: Vec<&Threshold> = thresholds
        .iter()
        .filter(|t| t.year == year && t.standard == standard && region_code.starts_with(&t.region_prefix))
        .collect();
    let longest = matching.iter().map(|t| t.region_prefix.len()).max();
    let mut best = matching.into_iter().filter(|t| Some(t.region_prefix.len()) == longest);
    let Some(first) = best.next() else {
        return Err(RuleError::NoThreshold { year, region_code: region_code.to_owned(), standard: standard.code() });
    };
    if best.next().is_some() {
        return Err(RuleError::AmbiguousThreshold {
            year,
            region_prefix: first.region_prefix.clone(),
            standard: standard.code(),
        });
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(lines: &[Threshold], year: i32, village: &str, standard: Standard) -> Result<i64, &'static str> {
        find_threshold(lines, year, village, standard).map(|t| t.amount_fen).map_err(|e| e.code())
    }

    #[test]
    fn seeded_lines_are_found_for_their_villages() {
        let seeded = Threshold::seeded();
        let table = [
            (2016, "530103001001", 295_200, "002 §二(一)"),
            (2016, "220102003004", 320_000, "000 §四(一)"),
            (2017, "140105001002", 320_000, "003 §一(一)1"),
        ];
        for (year, village, amount, source) in table {
            let t = find_threshold(&seeded, year, village, Standard::National).expect("seeded");
            assert_eq!((t.amount_fen, t.source.as_str()), (amount, source), "{village}");
        }
    }

    #[test]
    fn no_line_is_guessed() {
        let seeded = Threshold::seeded();
        // Another year, another region, another standard: nothing.
        for (year, village, standard) in [
            (2017, "530103001001", Standard::National),
            (2016, "350481001001", Standard::National),
            (2016, "530103001001", Standard::Provincial),
        ] {
            assert_eq!(pick(&seeded, year, village, standard), Err("no_threshold"), "{year} {village}");
        }
    }

    #[test]
    fn the_most_specific_prefix_wins() {
        let mut lines = Threshold::seeded();
        let test_line = |region_prefix: &str, amount_fen| Threshold {
            year: 2016,
            region_prefix: region_prefix.to_owned(),
            standard: Standard::National,
            amount_fen,
            source: "test".into(),
        };
        lines.push(test_line("", 1));
        lines.push(test_line("53", 2));
        assert_eq!(pick(&lines, 2016, "530103001001", Standard::National), Ok(295_200));
        assert_eq!(pick(&lines, 2016, "530102001001", Standard::National), Ok(2));
        assert_eq!(pick(&lines, 2016, "350481001001", Standard::National), Ok(1));
        lines.push(test_line("53", 3));
        assert_eq!(pick(&lines, 2016, "530102001001", Standard::National), Err("ambiguous_threshold"));
    }
}
